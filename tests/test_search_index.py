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


@pytest.mark.skipif("connection.vendor != 'sqlite'", reason="the trigram tables are SQLite's (PostgreSQL: the pg_trgm test below)")
def test_the_customer_match_is_answered_by_the_trigram_index(ada):
    with CaptureQueriesContext(connection) as queries:
        search.search("lovelace")
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert '"tickets_customer_fts" MATCH' in sql and '"tickets_identity_fts" MATCH' in sql
    assert "LIKE" not in sql  # no substring scan of the customer tables


@pytest.mark.parametrize("fragment", ["capped", "pp"])  # the trigram index, and the substring scan
def test_a_fragment_common_to_many_customers_is_matched_against_the_newest(monkeypatch, fragment):
    monkeypatch.setattr(search, "CUSTOMER_MATCHES", 3)
    made = [Customer.objects.create(name=f"Capped {letter}").pk for letter in "EDCBA"]  # A is the newest
    assert _customers(fragment) == [made[4], made[3], made[2]]  # the three newest (A, B, C), by name


@pytest.mark.skipif("connection.vendor != 'sqlite'", reason="the trigram tables are SQLite's (PostgreSQL: any 20 matches)")
def test_an_address_fragment_in_thousands_of_addresses_reads_only_the_newest():
    for n in range(25):
        services.ingest(inbound(f"p{n}@wide.example", "hi", sender_name=f"Wide {n:02}"))
    with CaptureQueriesContext(connection) as queries:
        found = search.search("wide.example").customers
    assert [c.name for c in found] == [f"Wide {n:02}" for n in range(5, 25)]  # the 20 newest, by name
    assert any('"tickets_identity_fts" MATCH' in q["sql"] and "LIMIT 20" in q["sql"] for q in queries.captured_queries)


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


# -- the same answers on both databases (SQLite's FTS5 trigram tables, PostgreSQL's pg_trgm) ----

PEOPLE = [  # (name, organisation, address)
    ("Ada Lovelace", "Analytical Engines", "ada@analytical.example"),
    ("Zoë Brontë", "Haworth Parsonage", "zoe@haworth.example"),
    ("Grace Hopper", "100% Navy", "+14155550101"),
    ("Under_Score", "", "under_score@example.com"),
    ("LOUD NAME", "Upper Org", "loud@example.com"),
]
FRAGMENTS = ["ovela", "OVELA", "engines", "@analytical", "brontë", "zoë", "hopper", "100%", "0%",
             "_score", "der_s", "loud name", "upper", "4155550101", ".example", "example.com",
             "xyz", "a%e", "ada_", "haworth"]


def _reference(fragment: str) -> set[str]:
    """What a fragment match means, computed in Python: a case-insensitive substring of the
    name, the organisation, the address or the identity's display name (SQLite's trigram
    tokenizer folds case but not accents; PostgreSQL's ILIKE the same)."""
    wanted = fragment.lower()
    return {name for name, org, address in PEOPLE
            if any(wanted in value.lower() for value in (name, org, address))}


@pytest.fixture
def people():
    for name, org, address in PEOPLE:
        channel = "sms" if address.startswith("+") else "email"
        customer = services.ingest(inbound(address, "hi", channel=channel, sender_name=name)).message.customer
        Customer.objects.filter(pk=customer.pk).update(name=name, organisation=org)


@pytest.mark.parametrize("fragment", FRAGMENTS)
def test_a_fragment_finds_exactly_the_customers_that_contain_it(people, fragment):
    """Run on SQLite (the default suite) and on PostgreSQL (DATABASE_URL): both must give the
    reference's answer, so both give the same answer for the same data."""
    found = {c.name for c in search.search(fragment).customers}
    assert found == _reference(fragment), connection.vendor


@pytest.mark.postgres
def test_postgres_answers_a_customer_fragment_from_the_trigram_indexes(people):
    """The match the search builds is one pg_trgm's GIN indexes answer (EXPLAIN), not a scan of
    the customer tables. The tables here are tiny, so the planner is told to avoid full scans (of the table or its primary key): what
    is checked is that the condition's shape fits the indexes (with 200,000 customers it picks
    them by itself: README, Real time at team scale)."""
    from tickets.models import Identity

    customers = Customer.objects.filter(search._fragment(Customer, "tickets_customer_fts", "ovela", ("name", "organisation")))
    identities = Identity.objects.filter(search._fragment(Identity, "tickets_identity_fts", "@analytical",
                                                          ("address", "display_name")))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off")
        customer_plan, identity_plan = customers.explain(), identities.explain()
    assert "Bitmap Index Scan on tickets_customer_trgm_idx" in customer_plan, customer_plan
    assert "Bitmap Index Scan on tickets_identity_trgm_idx" in identity_plan, identity_plan
    assert [c.name for c in customers] == ["Ada Lovelace"]
    assert [i.address for i in identities] == ["ada@analytical.example"]


def test_without_the_pg_trgm_extension_the_migration_warns_and_goes_on(caplog):
    """A role that may not create the extension: the migration step logs what to do and creates
    no index (search then scans), instead of failing the whole migrate."""
    from django.db import DatabaseError

    class Refused:
        class connection:  # noqa: N801 - stands in for schema_editor.connection
            vendor, alias = "postgresql", "default"

        executed: list = []

        def execute(self, statement):
            if statement.startswith("CREATE EXTENSION"):
                raise DatabaseError('permission denied to create extension "pg_trgm"')
            self.executed.append(statement)

    editor = Refused()
    search.create_trigram_index(editor)
    assert editor.executed == []
    assert "CREATE EXTENSION pg_trgm" in caplog.text and "permission denied" in caplog.text
