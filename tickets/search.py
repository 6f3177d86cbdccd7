"""Search across customers, tickets and message text.

Full-text on both databases, kept up to date by the database itself:

* SQLite (embedded default): FTS5 external-content tables over tickets_message(subject, text)
  and tickets_ticket(subject), maintained by AFTER INSERT/UPDATE/DELETE triggers. Triggers,
  not service code, because rows also arrive through bulk inserts (seed_demo), admin edits and
  merges that never pass through one function; a trigger cannot be forgotten. SQLite drops a
  table's triggers when Django remakes that table in a later migration, so `ensure_index()`
  runs after every `migrate` (post_migrate) and recreates missing triggers and rebuilds.
  The word tables also keep prefix indexes (PREFIXES, migration 0014): a last word typed in
  part ("ship", "com", up to 6 letters) is then one posting list read newest first, stopping at the page size,
  instead of every posting of every word it begins merged first (a cost that grew with the data).
* PostgreSQL (scaled): GIN expression indexes on to_tsvector('simple', ...), queried with the
  same expression. 'simple' (no stemming) because a helpdesk's mail is in many languages and
  agents search for names, order numbers and exact words.

Customers (names, organisations, addresses) are matched by fragment ("ovela", "@acme",
"+4477"): on SQLite from FTS5 trigram tables kept by the same kind of triggers (migration 0012),
so the cost follows the matches, not the size of the customer base; fragments under three
characters fall back to a substring scan. On PostgreSQL the same columns carry pg_trgm GIN
indexes (migration 0013), which answer the same ILIKE '%fragment%' match (any length; the
planner scans when a fragment is too short for trigrams). Creating the pg_trgm extension needs
a superuser or, since PostgreSQL 13 (pg_trgm is a trusted extension), the owner of the
database; where the migration may not, ILIKE still answers by a scan, and `manage.py migrate`
adds the indexes once a DBA has run `CREATE EXTENSION pg_trgm` (ensure_index). A phone number
typed in any format ("+1 415 555 0101", "(415) 555-0101", "4155550101") is also looked up as
the E.164 address we store (phonenumbers, with HELPDESK_DEFAULT_REGION for national formats)
and by its digits at the end of a stored number (no default region needed).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

from tickets import sql
from tickets.addresses import InvalidAddress, normalise_phone
from tickets.models import Customer, Identity, Message, Ticket
from tickets.policy import visible_customers, visible_tickets

log = logging.getLogger(__name__)

WORDS = "unicode61 remove_diacritics 2"
# FTS5 prefix indexes, by length in characters: a query prefix of exactly one of these lengths is
# answered from its own posting list, newest first. Longer ones ("shippin") merge the postings of
# every word they begin first, a cost that grows with the data again. 1-6 letters: the message
# index ~5x its size, the 1M-message database file ~1.8x (README, "Search at 1M messages").
PREFIXES = "1 2 3 4 5 6"
FTS_TABLES = {
    # fts table: (content table, indexed columns, tokenizer, prefix index lengths)
    "tickets_message_fts": ("tickets_message", ("subject", "text"), WORDS, PREFIXES),
    "tickets_ticket_fts": ("tickets_ticket", ("subject",), WORDS, PREFIXES),
    # Customers are matched by fragments ("ovela", "@acme", "4155"), so by trigram: an index for
    # substring search, where LIKE '%...%' read every row (its cost grew with the customer base).
    "tickets_customer_fts": ("tickets_customer", ("name", "organisation"), "trigram", ""),
    "tickets_identity_fts": ("tickets_identity", ("address", "display_name"), "trigram", ""),
}
# The word indexes of migration 0005; migration 0012 added the trigram ones.
WORD_TABLES = ("tickets_message_fts", "tickets_ticket_fts")
TRIGRAM_TABLES = ("tickets_customer_fts", "tickets_identity_fts")
MIN_TRIGRAM = 3  # a trigram index cannot answer shorter fragments
# PostgreSQL: the columns the trigram indexes cover, one multi-column GIN index per table (the
# same columns as the SQLite trigram tables above, so both databases find the same customers).
PG_TRIGRAM = {
    "tickets_customer": ("name", "organisation"),
    "tickets_identity": ("address", "display_name"),
}
PG_EXPRESSIONS = {
    "tickets_message": "to_tsvector('simple', coalesce(subject, '') || ' ' || coalesce(text, ''))",
    "tickets_ticket": "to_tsvector('simple', coalesce(subject, ''))",
}


# The SQL below is built from the constant table and column names above, never from input.
# ruff: noqa: S608
def _sqlite_statements(fts: str, content: str, columns: tuple[str, ...], tokenizer: str, prefixes: str) -> list[str]:
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    prefix = f", prefix='{prefixes}'" if prefixes else ""
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5({cols}, content='{content}', "
        f"content_rowid='id', tokenize='{tokenizer}'{prefix})",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ai AFTER INSERT ON {content} BEGIN "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ad AFTER DELETE ON {content} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_au AFTER UPDATE OF {cols} ON {content} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END",
    ]


def _pg_trigram_statements(table: str) -> list[str]:
    columns = ", ".join(f"{c} gin_trgm_ops" for c in PG_TRIGRAM[table])
    return [f"CREATE INDEX IF NOT EXISTS {table}_trgm_idx ON {table} USING gin ({columns})"]


def create_trigram_index(schema_editor) -> None:
    """PostgreSQL (migration 0013): the pg_trgm extension, where this role may create it, and
    the customer indexes. Without the extension the search still works, by a scan; a warning
    says what to do. (SQLite's trigram tables come from migration 0012.)"""
    from django.db import DatabaseError, transaction

    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):  # a savepoint: a refusal aborts nothing else
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as exc:
        log.warning("pg_trgm could not be created (%s): customer search scans the customer tables; "
                    "have a superuser run CREATE EXTENSION pg_trgm in this database, then run "
                    "manage.py migrate again", exc)
        return
    for table in PG_TRIGRAM:
        for statement in _pg_trigram_statements(table):
            schema_editor.execute(statement)


def drop_trigram_index(schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for table in PG_TRIGRAM:
            schema_editor.execute(f"DROP INDEX IF EXISTS {table}_trgm_idx")


def create_index(schema_editor, tables=WORD_TABLES, prefixes: bool = True) -> None:
    """Create the full-text index for this database (the migrations call it); `prefixes=False`
    leaves out the prefix indexes (what migration 0013 added, for its reverse)."""
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for fts in tables:
            content, columns, tokenizer, lengths = FTS_TABLES[fts]
            for statement in _sqlite_statements(fts, content, columns, tokenizer, lengths if prefixes else ""):
                schema_editor.execute(statement)
            schema_editor.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
    elif vendor == "postgresql":
        for table, expression in PG_EXPRESSIONS.items():
            if f"{table}_fts" in tables:
                schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {table}_fts_idx ON {table} USING gin ({expression})")


def drop_index(schema_editor, tables=WORD_TABLES) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for fts in tables:
            for suffix in ("ai", "ad", "au"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            schema_editor.execute(f"DROP TABLE IF EXISTS {fts}")
    elif vendor == "postgresql":
        for table in PG_EXPRESSIONS:
            if f"{table}_fts" in tables:
                schema_editor.execute(f"DROP INDEX IF EXISTS {table}_fts_idx")


def rebuild_word_index(schema_editor, prefixes: bool = True) -> None:
    """SQLite: remake the word tables with (or without) prefix indexes; FTS5 cannot add them to
    a table, so it is dropped and re-indexed from the content tables (~1 min per 1M messages).
    PostgreSQL's GIN index answers `word:*` as it is: nothing to do there."""
    if schema_editor.connection.vendor == "sqlite":
        drop_index(schema_editor, WORD_TABLES)
        create_index(schema_editor, WORD_TABLES, prefixes=prefixes)


def ensure_index(using="default", **kwargs) -> None:
    """post_migrate: recreate triggers a table remake dropped, and re-index if any were."""
    from django.db import connections

    conn = connections[using]
    if conn.vendor == "postgresql":
        _ensure_trigram_index(conn)
    if conn.vendor != "sqlite":
        return
    present = sql.sqlite_schema_names(using)
    with conn.cursor() as cursor:
        if "tickets_message" not in present:
            return  # tickets not migrated yet
        for fts, (content, columns, tokenizer, prefixes) in FTS_TABLES.items():
            wanted = {fts, f"{fts}_ai", f"{fts}_ad", f"{fts}_au"}
            if wanted <= present or fts not in present and fts in TRIGRAM_TABLES:
                continue  # complete, or migration 0012 (which builds it) has not run yet
            for statement in _sqlite_statements(fts, content, columns, tokenizer, prefixes):
                cursor.execute(statement)
            cursor.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def _ensure_trigram_index(conn) -> None:
    """PostgreSQL: the customer trigram indexes, once the pg_trgm extension exists (a DBA
    created it after migration 0013 could not)."""
    names = [f"{table}_trgm_idx" for table in PG_TRIGRAM]
    with conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")
        if not cursor.fetchone()[0]:
            return
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname = ANY(%s)", [names])
        present = {row[0] for row in cursor.fetchall()}
        for table in PG_TRIGRAM:
            if f"{table}_trgm_idx" not in present and table in conn.introspection.table_names(cursor):
                for statement in _pg_trigram_statements(table):
                    cursor.execute(statement)


def suspend_triggers(using="default") -> None:
    """Bulk loads (seed_demo): drop the SQLite triggers; ensure_index() then recreates them and
    rebuilds the index in one pass, which is several times faster than a trigger per row."""
    from django.db import connections

    conn = connections[using]
    if conn.vendor != "sqlite":
        return
    with conn.cursor() as cursor:
        for fts in FTS_TABLES:
            for suffix in ("ai", "ad", "au"):
                cursor.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")


_WORD = re.compile(r"\w+", re.UNICODE)


def _fts5_query(text: str, prefix: bool = True) -> str:
    """Every word must appear; with `prefix`, the last one may be a prefix ("punchcard" finds
    "punchcards"). Words are quoted, so FTS5 operators in what the agent typed are just text."""
    words = _WORD.findall(text)
    if not words:
        return ""
    quoted = [f'"{w}"' for w in words]
    if prefix:
        quoted[-1] += "*"
    return " ".join(quoted)


def _tsquery(text: str, prefix: bool = True) -> str:
    """The same on PostgreSQL: words ANDed, the last a prefix. Only \\w+ words reach
    to_tsquery, so its operators cannot be typed in."""
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return ""
    return " & ".join(words[:-1] + [f"{words[-1]}:*" if prefix else words[-1]])


def _matching_ids(table: str, text: str, limit: int) -> list[int]:
    """Ids of rows of `table` whose indexed text matches, newest first.

    Whole words first: FTS5 walks a word's postings newest first and stops at `limit`, so that
    costs the same at 200k or 1M messages. A prefix query cannot stop early (FTS5 merges the
    postings of every word with that prefix before it can order them: 15 ms at 200k, five times
    that at 1M for "refund*"), so it runs only when whole words found fewer than `limit` rows:
    a word typed in part ("punchcard"), or a rare one. Common words answer from the first query;
    their longer forms ("refunds") then come up when the agent types them."""
    ids = _run_match(table, text, limit, prefix=False)
    if len(ids) < limit:
        ids = _run_match(table, text, limit, prefix=True)
    return ids


def _run_match(table: str, text: str, limit: int, prefix: bool) -> list[int]:
    if connection.vendor == "sqlite":
        query = _fts5_query(text, prefix)
        if not query:
            return []
        return sql.fts5_matches(f"{table}_fts", query, limit)
    elif connection.vendor == "postgresql":
        query = _tsquery(text, prefix)
        if not query:
            return []
        return sql.tsquery_matches(table, PG_EXPRESSIONS[table], query, limit)
    else:  # pragma: no cover - other databases: substring search, slow but correct
        found = Q(subject__icontains=text)
        model = Ticket
        if table == "tickets_message":
            found, model = found | Q(text__icontains=text), Message
        return list(model.objects.filter(found).order_by("-pk").values_list("pk", flat=True)[:limit])


def _sqlite_trigram(fragment: str) -> bool:
    """SQLite's FTS5 trigram tables can answer this fragment (three characters or more)."""
    return connection.vendor == "sqlite" and len(fragment) >= MIN_TRIGRAM


def _phrase(fragment: str) -> str:
    """`fragment` quoted as one FTS5 string, so nothing typed is an operator."""
    return '"' + fragment.replace('"', '""') + '"'


def _trigram_ids(fts: str, fragment: str) -> RawSQL:
    """A subquery: rows whose indexed columns contain `fragment` (case-insensitive), answered
    by the trigram index."""
    return RawSQL(f"SELECT rowid FROM {fts} WHERE {fts} MATCH %s", [_phrase(fragment)])  # noqa: S611 - bound param


def _pg_trigram_ids(table: str, fragment: str) -> RawSQL:
    """PostgreSQL: a subquery, rows of `table` with `fragment` inside one of its trigram-indexed
    columns (ILIKE, which pg_trgm's GIN index answers; Django's icontains wraps the column in
    UPPER(), which it cannot). LIKE's wildcards typed in are escaped: they are just text."""
    pattern = f"%{connection.ops.prep_for_like_query(fragment)}%"
    columns = PG_TRIGRAM[table]
    condition = " OR ".join(f"{column} ILIKE %s" for column in columns)
    return RawSQL(f"SELECT id FROM {table} WHERE {condition}", [pattern] * len(columns))  # noqa: S611 - bound params


def _fragment(model, fts: str, text: str, columns: tuple[str, ...]) -> Q:
    """Rows of `model` with `text` inside one of `columns`: from the trigram index (SQLite's FTS5
    table, PostgreSQL's pg_trgm), a substring scan for fragments under three characters."""
    if _sqlite_trigram(text):
        return Q(pk__in=_trigram_ids(fts, text))
    if connection.vendor == "postgresql" and len(text) >= MIN_TRIGRAM:
        return Q(pk__in=_pg_trigram_ids(model._meta.db_table, text))
    found = Q()
    for column in columns:
        found |= Q(**{f"{column}__icontains": text})
    return found


# A fragment found in thousands of customers is matched against its newest CUSTOMER_MATCHES
# customers, not all of them: a subquery of every match, sorted by name, grew with the customer
# table (bench/search_scale.py: "example.com" 1.66-1.72x from 200k to 1M messages).
CUSTOMER_MATCHES = 200


def _newest_customers_named(text: str) -> list[int]:
    """Ids of the newest customers with `text` in their name or organisation, newest first."""
    if _sqlite_trigram(text):
        return sql.fts5_matches("tickets_customer_fts", _phrase(text), CUSTOMER_MATCHES)  # stops at the limit
    named = _fragment(Customer, "tickets_customer_fts", text, ("name", "organisation"))
    return list(Customer.objects.filter(named).order_by("-pk").values_list("pk", flat=True)[:CUSTOMER_MATCHES])


def _indexed(condition: Q, fragment: str) -> Q:
    """`condition` on identities, narrowed first by the trigram index to the rows that hold
    `fragment` (the address has no index of its own that could answer it)."""
    if connection.vendor == "postgresql":
        return condition & Q(pk__in=_pg_trigram_ids("tickets_identity", fragment))
    if connection.vendor != "sqlite":
        return condition
    return condition & Q(pk__in=_trigram_ids("tickets_identity_fts", fragment))


_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-/]+$")
MIN_PHONE_DIGITS = 6


def phone_lookup(text: str) -> Q | None:
    """Identity addresses a typed phone number means, or None when it is not one."""
    if not _PHONE_LIKE.match(text):
        return None
    digits = re.sub(r"\D", "", text)
    if len(digits) < MIN_PHONE_DIGITS:
        return None
    found = _indexed(Q(address__endswith=digits), digits)  # "4155550101" ends "+14155550101"
    try:
        e164 = normalise_phone(text)
        found |= _indexed(Q(address=e164), e164)
    except InvalidAddress:
        pass  # not a possible number here: the digits may still end one
    return found


_TICKET_NUMBER = re.compile(r"^#\s*(\d{1,18})$|^(\d{1,18})$")


def ticket_to_open(text: str, results: Results) -> int | None:
    """The ticket a search should open at once: "#123" when the agent may see ticket 123; a bare
    "123" too, unless it also matched a customer or a message (an order number, a phone
    fragment): then the results list it first, beside what else matched."""
    match = _TICKET_NUMBER.match((text or "").strip())
    if not match:
        return None
    number = int(match.group(1) or match.group(2))
    if not any(t.pk == number for t in results.tickets):
        return None  # no such ticket, or not one this agent may see
    if match.group(1) or not (results.customers or results.messages):
        return number
    return None


@dataclass
class Results:
    query: str
    customers: list = field(default_factory=list)
    tickets: list = field(default_factory=list)
    messages: list = field(default_factory=list)

    @property
    def empty(self):
        return not (self.customers or self.tickets or self.messages)


def search(text: str, limit: int = 20, user=None) -> Results:
    """Customers by name or address, tickets by number or subject, messages by their words.
    A constant number of queries, whatever the size of the tables. With `user`, only tickets,
    messages and customers that user may see (tickets.policy)."""
    text = (text or "").strip()[:200]
    results = Results(text)
    if not text:
        return results
    number = text.lstrip("#")
    if _sqlite_trigram(text):
        # The newest `limit` matches, the index read stopping there: a subquery of them all
        # ("example.com" is in every address) grew with the identity table.
        found = Q(pk__in=sql.fts5_matches("tickets_identity_fts", _phrase(text), limit))
    else:
        found = _fragment(Identity, "tickets_identity_fts", text, ("address", "display_name"))
    phone = phone_lookup(text)
    if phone is not None:
        found |= phone
    customer_ids = set(Identity.objects.filter(found).values_list("customer_id", flat=True)[:limit])
    customer_ids.update(_newest_customers_named(text))
    customer_scope = visible_customers(user) if user is not None else Q()
    results.customers = list(
        Customer.objects.filter(customer_scope, pk__in=customer_ids, merged_into__isnull=True)
        .prefetch_related("identities").order_by("name", "pk")[:limit]
    )
    ticket_ids = _matching_ids("tickets_ticket", text, limit)
    if number.isdigit():
        ticket_ids = [int(number), *ticket_ids]
    scope = visible_tickets(user) if user is not None else Q()
    tickets = Ticket.objects.filter(scope, pk__in=ticket_ids).select_related("customer", "assignee").in_bulk()
    results.tickets = [tickets[i] for i in dict.fromkeys(ticket_ids) if i in tickets]
    message_ids = _matching_ids("tickets_message", text, limit)
    message_scope = visible_tickets(user, prefix="ticket__") if user is not None else Q()
    messages = Message.objects.filter(message_scope, pk__in=message_ids).select_related("ticket", "customer").in_bulk()
    results.messages = [messages[i] for i in message_ids if i in messages]
    return results
