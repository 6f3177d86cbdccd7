"""Every reply corpus (tests/fixtures/email/replies: talon, mail-parser-reply, GitHub's
email_reply_parser; our own replies to our outbound mail in 34 languages) through the real
ingest_email path: the visible text is exactly what was typed in at least 97% of each corpus
(bench/reply_corpus.py prints the same figures)."""

from collections import defaultdict

import pytest

from tests import reply_corpora


@pytest.mark.django_db
def test_each_reply_corpus_reaches_the_goal(django_user_model):
    agent = django_user_model.objects.create_user("agent", is_staff=True)
    cases = reply_corpora.file_cases() + reply_corpora.own_cases()
    assert {c.corpus for c in cases} == {"talon", "mail_parser_reply", "email_reply_parser", "own"}
    by_corpus = defaultdict(list)
    for result in reply_corpora.run(cases, agent=agent):
        by_corpus[result.case.corpus].append(result)
    for corpus, rows in by_corpus.items():
        misses = [f"{r.case.name}: {r.visible[:80]!r}" for r in rows if not r.ok]
        assert 1 - len(misses) / len(rows) >= reply_corpora.GOAL, (corpus, misses)


def test_scoring_ignores_whitespace_only():
    case = reply_corpora.Case(corpus="x", name="x", expected="Hello  there\n\n\nJane")
    assert reply_corpora.exact(case, "Hello there\nJane  ", "")
    assert not reply_corpora.exact(case, "Hello there\nJane\n> quoted", "")
    whole = reply_corpora.Case(corpus="x", name="x", expected="@whole")
    assert reply_corpora.exact(whole, "all of it", "all  of it")
