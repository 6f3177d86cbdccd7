"""Every reply corpus through the real `manage.py ingest_email` path (store -> parse -> split ->
ingest) on a fresh SQLite database; prints per corpus the share of replies whose visible text is
exactly what was typed (a mobile signature aside, whitespace aside). Goal: >= 97% per corpus.

    .venv/bin/python bench/reply_corpus.py [-v]     # -v: print every miss

Corpora: tests/fixtures/email/replies/<corpus>/ (talon, mail-parser-reply, GitHub's
email_reply_parser; sources and licences beside them) and "own": replies to our own outbound
mail in 34 languages and 7 client shapes (tests/reply_languages.py).
"""

import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _fresh_db import setup  # noqa: E402

setup("bench-replies-")
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402

from tests import reply_corpora  # noqa: E402


def main(verbose: bool):
    call_command("migrate", verbosity=0)
    agent = get_user_model().objects.create_user("bench-agent", password="x", is_staff=True)
    results = reply_corpora.run(reply_corpora.file_cases() + reply_corpora.own_cases(), agent=agent)
    by_corpus = defaultdict(list)
    for result in results:
        by_corpus[result.case.corpus].append(result)
    below = []
    for corpus, rows in sorted(by_corpus.items()):
        share = sum(r.ok for r in rows) / len(rows)
        print(f"{corpus:20} {sum(r.ok for r in rows):4d}/{len(rows):<4d} {share:7.1%}  (goal {reply_corpora.GOAL:.0%})")
        if share < reply_corpora.GOAL:
            below.append(corpus)
        for r in rows:
            if not r.ok and verbose:
                print(f"  MISS {r.case.name}\n    got:      {r.visible[:300]!r}\n    expected: {r.expected[:300]!r}")
    if below:
        print(f"below the goal: {', '.join(below)}")


if __name__ == "__main__":
    main("-v" in sys.argv[1:])
