"""A last word typed in part ("ship", "order re") is answered from FTS5 prefix indexes on SQLite
(issue 20): the same rows as before they existed, newest first; migration 0014 adds them to a
populated database and takes them away again. On PostgreSQL the GIN index answers `word:*`."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.factories import inbound
from tickets import search, services

pytestmark = pytest.mark.django_db

# Typed text -> the corpus keys whose message (subject or text) it matches.
PREFIX_CASES = {
    "s": ["ship", "shipment", "shipping"],
    "sh": ["ship", "shipment", "shipping"],
    "ship": ["ship", "shipment", "shipping"],
    "shipp": ["shipping"],  # "shipped", in the subject
    "shippin": ["shipping"],  # longer than any prefix index: the merged postings
    "shipm": ["shipment"],
    "com": ["example"],
    "invoice m": ["march", "missing"],
    "order re": ["received", "refunded"],
    "CAF": ["cafe"],  # any case
    "zzz": [],
}
# PostgreSQL's 'simple' configuration keeps "example.com" as one token and does not fold accents.
SQLITE_CASES = {
    "example.com": ["example"],
    "resu": ["cafe"],  # diacritics folded: "résumé"
}
CORPUS = {
    "shipping": ("Order shipped", "shipping delayed again"),
    "shipment": ("", "the shipment is lost"),
    "ship": ("", "please ship it today"),
    "example": ("", "a comment about example.com"),
    "march": ("", "invoice for march attached"),
    "missing": ("", "invoice missing"),
    "received": ("", "order received"),
    "refunded": ("", "order refunded"),
    "cafe": ("", "Café résumé"),
}


@pytest.fixture
def corpus():
    ids = {}
    for n, (key, (subject, text)) in enumerate(CORPUS.items()):
        ids[key] = services.ingest(inbound(f"c{n}@corpus.example", text, subject=subject)).message.pk
    return ids


def _expected(corpus, keys):
    return sorted((corpus[k] for k in keys), reverse=True)  # newest first


def _cases():
    return PREFIX_CASES | SQLITE_CASES if connection.vendor == "sqlite" else PREFIX_CASES


def _all_matches():
    return {text: search._matching_ids("tickets_message", text, 20) for text in _cases()}


def test_a_last_word_typed_in_part_finds_the_words_it_begins(corpus):
    assert _all_matches() == {text: _expected(corpus, keys) for text, keys in _cases().items()}
    # The ticket subjects' index is built the same way.
    shipped = services.ingest(inbound("c0@corpus.example", "later", subject="x")).message.ticket_id
    assert search._matching_ids("tickets_ticket", "shipp", 20) == [shipped]


class _Editor:
    """What rebuild_word_index needs of a schema editor, usable inside the test's transaction
    (Django's SQLite schema editor refuses to open in one)."""

    connection = connection

    def execute(self, statement):
        with connection.cursor() as cursor:
            cursor.execute(statement)


def _message_index_ddl():
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'tickets_message_fts'")
        return cursor.fetchone()[0]


@pytest.mark.skipif("connection.vendor != 'sqlite'", reason="FTS5 prefix indexes are SQLite's")
def test_results_are_the_same_with_and_without_the_prefix_indexes(corpus):
    assert f"prefix='{search.PREFIXES}'" in _message_index_ddl()
    with_prefixes = _all_matches()
    search.rebuild_word_index(_Editor(), prefixes=False)
    assert "prefix=" not in _message_index_ddl()
    assert _all_matches() == with_prefixes
    assert any(with_prefixes.values())  # the cases matched something


@pytest.mark.postgres
def test_on_postgresql_a_prefix_query_can_use_the_gin_index(corpus):
    query = search._tsquery("order re")
    assert query == "order & re:*"
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a handful of rows: force the planner's hand
        cursor.execute(f"EXPLAIN SELECT id FROM tickets_message WHERE {search.PG_EXPRESSIONS['tickets_message']} "  # noqa: S608
                       "@@ to_tsquery('simple', %s) ORDER BY id DESC LIMIT 20", [query])
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "tickets_message_fts_idx" in plan, plan


@pytest.mark.skipif("connection.vendor != 'sqlite'", reason="migration 0014 changes SQLite's FTS5 tables only")
@pytest.mark.django_db(transaction=True)
def test_migration_0014_adds_and_removes_the_prefix_indexes_on_a_populated_database():
    corpus = {key: services.ingest(inbound(f"c{n}@corpus.example", text, subject=subject)).message.pk
              for n, (key, (subject, text)) in enumerate(CORPUS.items())}
    before = _all_matches()
    executor = MigrationExecutor(connection)
    executor.migrate([("tickets", "0013_customer_trigram_postgres")])
    assert "prefix=" not in _message_index_ddl()
    assert _all_matches() == before  # re-indexed from the stored messages
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert f"prefix='{search.PREFIXES}'" in _message_index_ddl()
    assert _all_matches() == before
    assert before["ship"] == _expected(corpus, PREFIX_CASES["ship"])
    # The triggers came back with the tables: a new message is found.
    new = services.ingest(inbound("new@corpus.example", "shipwright")).message.pk
    assert search._matching_ids("tickets_message", "shipw", 20) == [new]
