"""Search across customers, tickets and message text.

Full-text on both databases, kept up to date by the database itself:

* SQLite (embedded default): FTS5 external-content tables over tickets_message(subject, text)
  and tickets_ticket(subject), maintained by AFTER INSERT/UPDATE/DELETE triggers. Triggers,
  not service code, because rows also arrive through bulk inserts (seed_demo), admin edits and
  merges that never pass through one function; a trigger cannot be forgotten. SQLite drops a
  table's triggers when Django remakes that table in a later migration, so `ensure_index()`
  runs after every `migrate` (post_migrate) and recreates missing triggers and rebuilds.
* PostgreSQL (scaled): GIN expression indexes on to_tsvector('simple', ...), queried with the
  same expression. 'simple' (no stemming) because a helpdesk's mail is in many languages and
  agents search for names, order numbers and exact words.

Customers (names, addresses) are matched with plain substring search: the tables are small
next to messages, and agents type fragments of addresses ("@acme", "+4477"). A phone number
typed in any format ("+1 415 555 0101", "(415) 555-0101", "4155550101") is also looked up as
the E.164 address we store (phonenumbers, with HELPDESK_DEFAULT_REGION for national formats)
and by its digits at the end of a stored number (no default region needed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q

from tickets.addresses import InvalidAddress, normalise_phone
from tickets.models import Customer, Identity, Message, Ticket
from tickets.policy import visible_customers, visible_tickets

FTS_TABLES = {
    # fts table: (content table, indexed columns)
    "tickets_message_fts": ("tickets_message", ("subject", "text")),
    "tickets_ticket_fts": ("tickets_ticket", ("subject",)),
}
PG_EXPRESSIONS = {
    "tickets_message": "to_tsvector('simple', coalesce(subject, '') || ' ' || coalesce(text, ''))",
    "tickets_ticket": "to_tsvector('simple', coalesce(subject, ''))",
}


# The SQL below is built from the constant table and column names above, never from input.
# ruff: noqa: S608
def _sqlite_statements(fts: str, content: str, columns: tuple[str, ...]) -> list[str]:
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5({cols}, content='{content}', "
        f"content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ai AFTER INSERT ON {content} BEGIN "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ad AFTER DELETE ON {content} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_au AFTER UPDATE OF {cols} ON {content} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END",
    ]


def create_index(schema_editor) -> None:
    """Create the full-text index for this database (the migration calls it)."""
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for fts, (content, columns) in FTS_TABLES.items():
            for statement in _sqlite_statements(fts, content, columns):
                schema_editor.execute(statement)
            schema_editor.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
    elif vendor == "postgresql":
        for table, expression in PG_EXPRESSIONS.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {table}_fts_idx ON {table} USING gin ({expression})")


def drop_index(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for fts in FTS_TABLES:
            for suffix in ("ai", "ad", "au"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            schema_editor.execute(f"DROP TABLE IF EXISTS {fts}")
    elif vendor == "postgresql":
        for table in PG_EXPRESSIONS:
            schema_editor.execute(f"DROP INDEX IF EXISTS {table}_fts_idx")


def ensure_index(using="default", **kwargs) -> None:
    """post_migrate: recreate triggers a table remake dropped, and re-index if any were."""
    from django.db import connections

    conn = connections[using]
    if conn.vendor != "sqlite":
        return
    with conn.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
        present = {row[0] for row in cursor.fetchall()}
        if "tickets_message" not in present:
            return  # tickets not migrated yet
        for fts, (content, columns) in FTS_TABLES.items():
            wanted = {fts, f"{fts}_ai", f"{fts}_ad", f"{fts}_au"}
            if wanted <= present:
                continue
            for statement in _sqlite_statements(fts, content, columns):
                cursor.execute(statement)
            cursor.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


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


def _fts5_query(text: str) -> str:
    """Every word must appear; the last one may be a prefix (search as you type). Words are
    quoted, so FTS5 operators in what the agent typed are just text."""
    words = _WORD.findall(text)
    if not words:
        return ""
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def _tsquery(text: str) -> str:
    """The same on PostgreSQL: words ANDed, the last a prefix. Only \\w+ words reach
    to_tsquery, so its operators cannot be typed in."""
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return ""
    return " & ".join(words[:-1] + [f"{words[-1]}:*"])


def _matching_ids(table: str, text: str, limit: int) -> list[int]:
    """Ids of rows of `table` whose indexed text matches, newest first."""
    if connection.vendor == "sqlite":
        query = _fts5_query(text)
        if not query:
            return []
        fts = f"{table}_fts"
        sql = f"SELECT rowid FROM {fts} WHERE {fts} MATCH %s ORDER BY rowid DESC LIMIT %s"
        params = [query, limit]
    elif connection.vendor == "postgresql":
        query = _tsquery(text)
        if not query:
            return []
        sql = (f"SELECT id FROM {table} WHERE {PG_EXPRESSIONS[table]} @@ to_tsquery('simple', %s) "
               "ORDER BY id DESC LIMIT %s")
        params = [query, limit]
    else:  # pragma: no cover - other databases: substring search, slow but correct
        found = Q(subject__icontains=text)
        model = Ticket
        if table == "tickets_message":
            found, model = found | Q(text__icontains=text), Message
        return list(model.objects.filter(found).order_by("-pk").values_list("pk", flat=True)[:limit])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-/]+$")
MIN_PHONE_DIGITS = 6


def phone_lookup(text: str) -> Q | None:
    """Identity addresses a typed phone number means, or None when it is not one."""
    if not _PHONE_LIKE.match(text):
        return None
    digits = re.sub(r"\D", "", text)
    if len(digits) < MIN_PHONE_DIGITS:
        return None
    found = Q(address__endswith=digits)  # "4155550101" is the end of "+14155550101"
    try:
        found |= Q(address=normalise_phone(text))
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
    found = Q(address__icontains=text) | Q(display_name__icontains=text)
    phone = phone_lookup(text)
    if phone is not None:
        found |= phone
    customer_ids = set(Identity.objects.filter(found).values_list("customer_id", flat=True)[:limit])
    customer_scope = visible_customers(user) if user is not None else Q()
    results.customers = list(
        Customer.objects.filter(Q(pk__in=customer_ids) | Q(name__icontains=text) | Q(organisation__icontains=text),
                                customer_scope, merged_into__isnull=True)
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
