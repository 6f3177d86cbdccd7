"""Customer matching in search is index-backed on SQLite (issue 20): a fragment of a name,
organisation or address is answered by the FTS5 trigram tables, which the triggers keep current,
so its cost follows the matches and not the size of the customer base."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import inbound
from tickets import search, services
from tickets.models import Customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada():
    customer = services.ingest(inbound("ada@analytical.example", "hello", sender_name="Ada Lovelace")).message.customer
    Customer.objects.filter(pk=customer.pk).update(name="Ada Lovelace", organisation="Analytical Engines")
    return customer


def _customers(text):
    return [c.pk for c in search.search(text).customers]


def test_a_fragment_inside_a_name_organisation_or_address_finds_the_customer(ada):
    assert _customers("OVELA") == [ada.pk]  # inside the name, any case
    assert _customers("engines") == [ada.pk]  # the organisation
    assert _customers("@analytical") == [ada.pk]  # the address
    assert _customers("babbage") == []


@pytest.mark.skipif("connection.vendor != 'sqlite'", reason="the trigram tables are SQLite's (PostgreSQL: Known limits)")
def test_the_customer_match_is_answered_by_the_trigram_index(ada):
    with CaptureQueriesContext(connection) as queries:
        search.search("lovelace")
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "tickets_customer_fts MATCH" in sql and "tickets_identity_fts MATCH" in sql
    assert "LIKE" not in sql  # no substring scan of the customer tables


def test_an_edit_moves_the_customer_in_the_index(ada):
    Customer.objects.filter(pk=ada.pk).update(organisation="Hopper Labs")
    assert _customers("engines") == []
    assert _customers("hopper lab") == [ada.pk]


def test_typed_quotes_and_operators_are_plain_text(ada):
    assert _customers('love" OR "x') == []
    assert _customers("NEAR(ada lovelace)") == []


def test_two_letters_fall_back_to_a_substring_match(ada):
    assert ada.pk in _customers("da")


def test_whole_words_answer_first_and_a_prefix_query_only_when_they_fall_short():
    exact = [services.ingest(inbound(f"c{n}@example.com", f"refund please {n}")).message.pk for n in range(3)]
    longer = services.ingest(inbound("d@example.com", "two refunds due")).message.pk
    with CaptureQueriesContext(connection) as queries:
        assert search._matching_ids("tickets_message", "refund", 3) == exact[::-1]
    assert len(queries.captured_queries) == 1  # the limit was met by whole words: no prefix query
    # Fewer whole-word rows than the limit: the prefix query runs and finds the longer form too.
    assert search._matching_ids("tickets_message", "refund", 20) == [longer, *exact[::-1]]
    assert search._matching_ids("tickets_message", "refunds due", 20) == [longer]
    assert search._matching_ids("tickets_message", "refu", 20) == [longer, *exact[::-1]]
