"""Every hand-written SQL statement of the project, by name, in one place.

Why hand-written at all: on a small server compiling an ORM statement costs several times more
than running it (an insert's compiler alone was ~0.2 ms here, the SQLite statement ~0.03 ms),
and ingest, the event log and the after-commit sinks run a dozen statements per message. So
those paths call the functions below; everything else uses the ORM.

Two kinds of function, and no third:
- Model-shaped statements (`insert`, `update`, `get`, `values`, `exists`, `lock`, `add`,
  `insert_unless_exists`): the table and column names come from the model's metadata, the
  conditions are keyword lookups (`field=value`, `field__in`, `field__isnull`, `field__ne`,
  `field__gte`) whose values are always parameters. Each statement is built once per process
  and shape. Other apps use these with their own models, so no app spells another's columns.
- Named queries (`stored_message`, `identity_locking_customer`, `ticket_for_reply_ids`, `latest_ticket`, `has_written_on`,
  `sender_count_last_hour`, the event counter, insert (`allocate_and_insert_events`: both in one on PostgreSQL)
  and read-back (`carried_events`), full-text matches, bulk loading, the ingest spool's file):
  the few statements a keyword lookup cannot say (a join, a subquery, a counter).

Values are converted exactly as the ORM converts them (`Field.pre_save` and
`get_db_prep_save` on the way in, the backend's converters on the way out), so auto_now
timestamps, JSON, booleans and time zones come out the same. Errors are Django's own (the
cursor wraps them: an IntegrityError is `django.db.IntegrityError`). No model signals are sent;
nothing in this project listens to them. tests/test_named_queries.py checks every function
against its ORM equivalent on SQLite and PostgreSQL.
"""

from __future__ import annotations

from functools import cache, partial

from django.db import connection, transaction
from django.db.models import Model

_STATEMENTS: dict[tuple, tuple[str, list]] = {}
_OPERATORS = {"": "= %s", "ne": "<> %s", "gte": ">= %s"}


# -- the cursor -----------------------------------------------------------------------------------

def _cursor():
    """A cursor for these statements. On PostgreSQL it binds parameters on the server, so that
    psycopg prepares each statement once per connection (after the connection's
    `prepare_threshold` runs, settings DATABASE_PREPARE_THRESHOLD) and later runs send only the
    parameters: the backend's CPU per ingested message fell by a third (bench/ingest.py). The
    ORM keeps Django's client-side binding. Wrapped as Django wraps its own cursors (errors
    become django.db errors, queries are logged when DEBUG or a test captures them)."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    from django.db.backends.postgresql.base import (
        TIMESTAMPTZ_OID,
        Format,
        ServerBindingCursor,
        register_tzloader,
    )

    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        cursor = ServerBindingCursor(connection.connection)
        if connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT).timezone != connection.timezone:
            register_tzloader(connection.timezone, cursor)  # as Django's create_cursor does
    return connection.make_debug_cursor(cursor) if connection.queries_logged else connection.make_cursor(cursor)


# -- model-shaped statements -------------------------------------------------------------------

def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _column(model: type[Model], name: str) -> str:
    """The quoted column of a field (by name or attname): no app spells another's columns."""
    return _q(model._meta.get_field(name).column)


def _check(model: type[Model]) -> None:
    for field in model._meta.concrete_fields:
        if getattr(field, "generated", False) or field.has_db_default():
            raise TypeError(f"tickets.sql cannot write {model.__name__}.{field.name} (database default or generated)")


def _where(model: type[Model], where: dict) -> tuple[str, list]:
    """(SQL condition, parameter converters) for keyword lookups on `model`'s columns."""
    meta, parts, preps = model._meta, [], []
    for key, value in where.items():
        name, _, lookup = key.partition("__")
        field = meta.pk if name == "pk" else meta.get_field(name)
        column = _q(field.column)
        if lookup == "isnull":
            parts.append(f"{column} IS {'' if value else 'NOT '}NULL")
        elif lookup == "in" and not value:
            parts.append("1 = 0")  # IN () is not SQL; nothing matches an empty list
        elif lookup == "in":
            parts.append(f"{column} IN ({', '.join(['%s'] * len(value))})")
            preps.append((key, field, True))
        elif lookup in _OPERATORS:
            parts.append(f"{column} {_OPERATORS[lookup]}")
            preps.append((key, field, False))
        else:
            raise ValueError(f"tickets.sql: unknown lookup {key!r}")
    return " AND ".join(parts) or "1 = 1", preps


def _params(where: dict, preps: list) -> list:
    params = []
    for key, field, many in preps:
        values = where[key] if many else [where[key]]
        params += [field.get_db_prep_value(v, connection, prepared=False) for v in values]
    return params


def _shape(where: dict) -> tuple:
    """The statement's cache key for these lookups: their names and, for `in`, how many."""
    return tuple((k, len(v) if k.endswith("__in") else None) for k, v in where.items())


def _order(model: type[Model], order_by: str) -> str:
    if not order_by:
        return ""
    name = order_by.lstrip("-")
    field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    return f" ORDER BY {_q(field.column)}{' DESC' if order_by.startswith('-') else ''}"


def _readers(model: type[Model], attnames) -> list[tuple]:
    """(field, col, converters) of these fields, to read rows as the ORM would."""
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    columns = []
    for name in attnames:
        field = by_attname[name]
        col = field.get_col(model._meta.db_table)
        columns.append((field, col, connection.ops.get_db_converters(col) + col.get_db_converters(connection)))
    return columns


def _convert(row, readers) -> list:
    values = []
    for value, (_field, col, converters) in zip(row, readers, strict=True):
        for converter in converters:
            value = converter(value, col, connection)
        values.append(value)
    return values


@cache  # per model: prepared_row runs it on every spooled webhook
def _written_fields(model: type[Model]) -> list:
    _check(model)
    meta = model._meta
    return [f for f in meta.local_concrete_fields if f is not meta.auto_field]


def insert(obj: Model, *, flushed_by_next_commit: bool = False) -> Model:
    """INSERT one new instance (its primary key unset, unless the model has no auto key: a
    one-to-one primary key is set by the caller) and set the key it was given.

    `flushed_by_next_commit`: on PostgreSQL, outside a transaction, the row's own commit does
    not wait for the WAL to reach the disk (synchronous_commit off for that one transaction, set
    in the same statement); the caller's next synchronous commit flushes it, since the WAL is
    flushed in order. For a row that matters only once something later commits (a provider's
    raw payload: no answer goes out before ingest or the failure mark commits), one disk flush
    (2-5 ms here) fewer. A crash of the database in between loses it with no answer given, as
    if it had not arrived; a crash of our process does not (the server still writes it)."""
    model = type(obj)
    relaxed = flushed_by_next_commit and connection.vendor == "postgresql" and not connection.in_atomic_block
    key = ("insert", model, connection.vendor, relaxed)
    if key not in _STATEMENTS:
        meta, fields = model._meta, _written_fields(model)
        sql = (f"INSERT INTO {_q(meta.db_table)} ({', '.join(_q(f.column) for f in fields)}) "  # noqa: S608
               f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {_q(meta.pk.column)}"
               # set_config(..., true) is SET LOCAL: this statement's own transaction only
               + (", set_config('synchronous_commit', 'off', true)" if relaxed else ""))
        _STATEMENTS[key] = (sql, fields)
    sql, fields = _STATEMENTS[key]
    if obj.pk is not None and model._meta.auto_field is not None:
        raise ValueError("sql.insert() is for new rows; this one already has a primary key")
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection=connection) for f in fields]
    with _cursor() as cursor:
        cursor.execute(sql, params)
        obj.pk = cursor.fetchone()[0]
    obj._state.adding, obj._state.db = False, connection.alias
    return obj


def prepared_columns(model: type[Model]) -> list[str]:
    """The columns `prepared_row` gives values for, in its order."""
    return [f.column for f in _written_fields(model)]


def prepared_row(obj: Model) -> list:
    """The values `insert` would send for a new instance (auto_now_add set now), database-ready,
    to be written later by `insert_prepared_unless_exists` (the ingest spool)."""
    return [f.get_db_prep_save(f.pre_save(obj, True), connection=connection) for f in _written_fields(type(obj))]


def insert_prepared_unless_exists(model: type[Model], columns: list[str], rows: list, conflict: str) -> None:
    """INSERT rows of `prepared_row` values (in `columns` order) as they are, timestamps too,
    skipping any whose `conflict` field (unique) is already taken. One statement per row."""
    sql = (f"INSERT INTO {_q(model._meta.db_table)} ({', '.join(_q(c) for c in columns)}) "  # noqa: S608
           f"VALUES ({', '.join(['%s'] * len(columns))}) ON CONFLICT ({_column(model, conflict)}) DO NOTHING")
    with _cursor() as cursor:
        cursor.executemany(sql, rows)


def insert_unless_exists(obj: Model, conflict: tuple[str, ...]) -> int | None:
    """INSERT a new instance unless a row with the same values of the `conflict` fields (a
    unique constraint) exists: its new primary key, or None. One statement, no savepoint."""
    model = type(obj)
    key = ("insert_unless", model, connection.vendor, conflict)
    if key not in _STATEMENTS:
        meta, fields = model._meta, _written_fields(model)
        unique = ", ".join(_q(meta.get_field(name).column) for name in conflict)
        sql = (f"INSERT INTO {_q(meta.db_table)} ({', '.join(_q(f.column) for f in fields)}) "  # noqa: S608
               f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT ({unique}) DO NOTHING "
               f"RETURNING {_q(meta.pk.column)}")
        _STATEMENTS[key] = (sql, fields)
    sql, fields = _STATEMENTS[key]
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection=connection) for f in fields]
    with _cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    obj.pk = row[0]
    obj._state.adding, obj._state.db = False, connection.alias
    return obj.pk


def update(obj: Model, fields: tuple[str, ...]) -> Model:
    """UPDATE the named fields of a saved instance (like save(update_fields=...), no signals)."""
    model = type(obj)
    key = ("update", model, connection.vendor, fields)
    if key not in _STATEMENTS:
        _check(model)
        meta = model._meta
        model_fields = [meta.get_field(name) for name in fields]
        assignments = ", ".join(f"{_q(f.column)} = %s" for f in model_fields)
        sql = f"UPDATE {_q(meta.db_table)} SET {assignments} WHERE {_q(meta.pk.column)} = %s"  # noqa: S608
        _STATEMENTS[key] = (sql, model_fields)
    sql, model_fields = _STATEMENTS[key]
    params = [f.get_db_prep_save(f.pre_save(obj, False), connection=connection) for f in model_fields]
    with _cursor() as cursor:
        cursor.execute(sql, [*params, obj.pk])
    return obj


def add(model: type[Model], field: str, amount: int, *, also: dict | None = None, **where) -> int:
    """UPDATE ... SET field = field + amount (and `also`'s fields to its values) on the rows
    matching `where`; how many rows it changed."""
    also = also or {}
    key = ("add", model, connection.vendor, field, tuple(also), _shape(where))
    if key not in _STATEMENTS:
        meta = model._meta
        column = _q(meta.get_field(field).column)
        others = [meta.get_field(name) for name in also]
        sets = ", ".join([f"{column} = {column} + %s", *(f"{_q(f.column)} = %s" for f in others)])
        condition, preps = _where(model, where)
        _STATEMENTS[key] = (f"UPDATE {_q(meta.db_table)} SET {sets} WHERE {condition}", (others, preps))  # noqa: S608
    sql, (others, preps) = _STATEMENTS[key]
    values = [f.get_db_prep_save(also[f.name], connection=connection) for f in others]
    with _cursor() as cursor:
        cursor.execute(sql, [amount, *values, *_params(where, preps)])
        return cursor.rowcount


def _select(model: type[Model], attnames, where: dict, order_by: str, limit: int | None):
    key = ("select", model, connection.vendor, tuple(attnames), _shape(where), order_by, limit)
    if key not in _STATEMENTS:
        readers = _readers(model, attnames)
        condition, preps = _where(model, where)
        sql = (f"SELECT {', '.join(_q(f.column) for f, _c, _v in readers)} "  # noqa: S608
               f"FROM {_q(model._meta.db_table)} WHERE {condition}{_order(model, order_by)}"
               f"{f' LIMIT {int(limit)}' if limit else ''}")
        _STATEMENTS[key] = (sql, (readers, preps))
    sql, (readers, preps) = _STATEMENTS[key]
    with _cursor() as cursor:
        cursor.execute(sql, _params(where, preps))
        rows = cursor.fetchall()
    return [_convert(row, readers) for row in rows]


def get(model: type[Model], *, order_by: str = "", **where) -> Model | None:
    """The first instance matching `where` (in `order_by`: a field name, "-" for descending),
    or None: `Model.objects.filter(**where).order_by(order_by).first()` without its compile."""
    attnames = [f.attname for f in model._meta.concrete_fields]
    rows = _select(model, attnames, where, order_by, 1)
    return model.from_db(connection.alias, attnames, rows[0]) if rows else None


def values(model: type[Model], fields: tuple[str, ...], *, order_by: str = "", limit: int | None = None,
           **where) -> list[tuple]:
    """Rows of some fields (attnames) of `model` matching `where`: values_list() without its
    compile."""
    return [tuple(row) for row in _select(model, fields, where, order_by, limit)]


def values_either(model: type[Model], fields: tuple[str, ...], first: dict, second: dict) -> list[tuple]:
    """Rows of some fields of `model` matching the lookups of `first` OR those of `second`:
    `filter(Q(**first) | Q(**second)).values_list(*fields)` without its compile."""
    key = ("either", model, connection.vendor, tuple(fields), _shape(first), _shape(second))
    if key not in _STATEMENTS:
        readers = _readers(model, fields)
        (one, one_preps), (two, two_preps) = _where(model, first), _where(model, second)
        statement = (f"SELECT {', '.join(_q(f.column) for f, _c, _v in readers)} "  # noqa: S608
                     f"FROM {_q(model._meta.db_table)} WHERE ({one}) OR ({two})")
        _STATEMENTS[key] = (statement, (readers, one_preps, two_preps))
    statement, (readers, one_preps, two_preps) = _STATEMENTS[key]
    with _cursor() as cursor:
        cursor.execute(statement, _params(first, one_preps) + _params(second, two_preps))
        rows = cursor.fetchall()
    return [tuple(_convert(row, readers)) for row in rows]


def exists(model: type[Model], **where) -> bool:
    """Whether a row matches `where`: `filter(**where).exists()` without its compile."""
    key = ("exists", model, connection.vendor, _shape(where))
    if key not in _STATEMENTS:
        condition, preps = _where(model, where)
        _STATEMENTS[key] = (f"SELECT 1 FROM {_q(model._meta.db_table)} WHERE {condition} LIMIT 1", preps)  # noqa: S608
    sql, preps = _STATEMENTS[key]
    with _cursor() as cursor:
        cursor.execute(sql, _params(where, preps))
        return cursor.fetchone() is not None


def lock(model: type[Model], *, share: bool = False, **where) -> None:
    """Lock the rows matching `where` until commit (FOR UPDATE, or FOR SHARE). A no-op where the
    database has no row locks: SQLite's IMMEDIATE transactions already serialise writers."""
    if not connection.features.has_select_for_update:
        return
    key = ("lock", model, connection.vendor, share, _shape(where))
    if key not in _STATEMENTS:
        condition, preps = _where(model, where)
        mode = "SHARE" if share else "UPDATE"
        _STATEMENTS[key] = (f"SELECT 1 FROM {_q(model._meta.db_table)} WHERE {condition} FOR {mode}", preps)  # noqa: S608
    sql, preps = _STATEMENTS[key]
    with _cursor() as cursor:
        cursor.execute(sql, _params(where, preps))


def first_rows(*columns: tuple[type[Model], str]) -> tuple:
    """The value of one field of the row with id 1 of each of these one-row models (None where
    it has none), read in ONE statement and converted as the ORM converts them:
    `first_rows((ConfigVersion, "value"), (Wakeup, "at"))`."""
    key = ("first_rows", connection.vendor, columns)
    if key not in _STATEMENTS:
        readers = [_readers(model, (field,))[0] for model, field in columns]
        parts = [f"(SELECT {_q(f.column)} FROM {_q(model._meta.db_table)} WHERE {_q(model._meta.pk.column)} = 1)"  # noqa: S608
                 for (model, _name), (f, _c, _v) in zip(columns, readers, strict=True)]
        _STATEMENTS[key] = (f"SELECT {', '.join(parts)}", readers)
    statement, readers = _STATEMENTS[key]
    with _cursor() as cursor:
        cursor.execute(statement)
        row = cursor.fetchone()
    return tuple(_convert(row, readers))


def write_values(model: type[Model], pk, values: dict, *, exists: bool) -> None:
    """INSERT (or, `exists`, UPDATE) the row with primary key `pk` from field values (attnames,
    as `values` orders them), without building a model instance: one statement built once per
    process, each value prepared as the ORM prepares it (a hot per-change record, where the
    generic per-field save path cost a third of the work)."""
    key = ("write_values", model, connection.vendor, exists, tuple(values))
    if key not in _STATEMENTS:
        _check(model)
        meta = model._meta
        by_attname = {f.attname: f for f in meta.concrete_fields}
        fields = [by_attname[name] for name in values]
        columns = [_q(f.column) for f in fields]
        if exists:
            statement = (f"UPDATE {_q(meta.db_table)} SET {', '.join(f'{c} = %s' for c in columns)} "  # noqa: S608
                         f"WHERE {_q(meta.pk.column)} = %s")
        else:
            statement = (f"INSERT INTO {_q(meta.db_table)} ({', '.join(columns)}, {_q(meta.pk.column)}) "  # noqa: S608
                         f"VALUES ({', '.join(['%s'] * (len(columns) + 1))})")
        _STATEMENTS[key] = (statement, fields)
    statement, fields = _STATEMENTS[key]
    params = [f.get_db_prep_save(value, connection=connection) for f, value in zip(fields, values.values(), strict=True)]
    with _cursor() as cursor:
        cursor.execute(statement, [*params, pk])


def unconverted_rows(queryset) -> list[tuple]:
    """The rows of a values_list() queryset as the database driver returns them, without the
    ORM's per-value converters (reports read thousands of rows and those converters were half
    of their time; the caller converts the few columns that need it)."""
    statement, params = queryset.query.sql_with_params()
    with _cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def unread_for_user(model: type[Model], user_id: int, team_ids: list[int] | None) -> int:
    """How many rows of a per-user notification `model` (user, ticket, read_at) are unread for
    this user, counting only tickets of no team or of `team_ids` (None: every ticket). The
    console's bell asks on every page, where compiling the ORM query cost more than running it;
    tests/test_notifications.py compares it with the ORM's answer."""
    key = ("unread_for_user", model, connection.vendor, None if team_ids is None else len(team_ids))
    if key not in _STATEMENTS:
        meta = model._meta
        table, tickets = _q(meta.db_table), _q(meta.get_field("ticket").related_model._meta.db_table)
        user, ticket, read_at = (_q(meta.get_field(name).column) for name in ("user", "ticket", "read_at"))
        statement = f"SELECT COUNT(*) FROM {table} n"  # noqa: S608 - names from the models
        where = f" WHERE n.{user} = %s AND n.{read_at} IS NULL"
        if team_ids is not None:
            in_teams = f" OR t.{_q('team_id')} IN ({', '.join(['%s'] * len(team_ids))})" if team_ids else ""
            statement += f" JOIN {tickets} t ON t.{_q('id')} = n.{ticket}"
            where += f" AND (t.{_q('team_id')} IS NULL{in_teams})"
        _STATEMENTS[key] = statement + where
    with _cursor() as cursor:
        cursor.execute(_STATEMENTS[key], [user_id, *(team_ids or [])])
        return cursor.fetchone()[0]


# -- named queries: ingest ------------------------------------------------------------------------

def stored_message(channel: str, external_id: str) -> tuple[int, str, str | None] | None:
    """(id, direction, sender address) of the message stored under this provider id, if any.
    Two statements rather than a join: the miss (every new message) stays one index probe."""
    from tickets.models import Identity, Message

    rows = values(Message, ("id", "direction", "identity_id"), channel=channel, external_id=external_id)
    if not rows:
        return None
    pk, direction, identity_id = rows[0]
    address = None
    if identity_id is not None:
        found = values(Identity, ("address",), id=identity_id)
        address = found[0][0] if found else None
    return pk, direction, address


def identity_locking_customer(channel: str, address: str) -> Model | None:
    """The identity stored for (channel, address), its customer's row locked until commit
    (FOR UPDATE, as `lock(Customer, id=...)`): ingest's first two statements in one round trip.
    SQLite has no row locks (IMMEDIATE transactions serialise writers): a plain read there."""
    from tickets.models import Customer, Identity

    if not connection.features.has_select_for_update:
        return get(Identity, channel=channel, address=address)
    key = ("identity_locking", connection.vendor)
    if key not in _STATEMENTS:
        attnames = [f.attname for f in Identity._meta.concrete_fields]
        readers = _readers(Identity, attnames)
        customers = _q(Customer._meta.db_table)
        _STATEMENTS[key] = (
            f"SELECT {', '.join('i.' + _q(f.column) for f, _c, _v in readers)} "  # noqa: S608
            f"FROM {_q(Identity._meta.db_table)} i JOIN {customers} c ON c.{_q(Customer._meta.pk.column)} = "
            f"i.{_column(Identity, 'customer')} WHERE i.{_column(Identity, 'channel')} = %s "
            f"AND i.{_column(Identity, 'address')} = %s FOR UPDATE OF c", (attnames, readers))
    statement, (attnames, readers) = _STATEMENTS[key]
    with _cursor() as cursor:
        cursor.execute(statement, [channel, address])
        row = cursor.fetchone()
    return Identity.from_db(connection.alias, attnames, _convert(row, readers)) if row else None


def ticket_for_reply_ids(channel: str, external_ids) -> Model | None:
    """The ticket of the newest message stored under one of these provider ids (the ids a
    reply's In-Reply-To / References name), or None. One statement: a subquery."""
    from tickets.models import Message, Ticket

    external_ids = list(external_ids)
    key = ("reply_ids", connection.vendor, len(external_ids))
    if key not in _STATEMENTS:
        attnames = [f.attname for f in Ticket._meta.concrete_fields]
        readers = _readers(Ticket, attnames)
        m = Message._meta

        def column(name):
            return _column(Message, name)
        _STATEMENTS[key] = (
            f"SELECT {', '.join(_q(f.column) for f, _c, _v in readers)} FROM {_q(Ticket._meta.db_table)} "  # noqa: S608
            f"WHERE {_q(Ticket._meta.pk.column)} = (SELECT {column('ticket')} FROM {_q(m.db_table)} "
            f"WHERE {column('channel')} = %s AND {column('external_id')} IN ({', '.join(['%s'] * len(external_ids))}) "
            f"ORDER BY {_q(m.pk.column)} DESC LIMIT 1)", (attnames, readers))
    sql, (attnames, readers) = _STATEMENTS[key]
    with _cursor() as cursor:
        cursor.execute(sql, [channel, *external_ids])
        row = cursor.fetchone()
    return Ticket.from_db(connection.alias, attnames, _convert(row, readers)) if row else None


def latest_ticket(customer_id: int, channel: str) -> Model | None:
    """The customer's most recently updated ticket on this channel (whatever its status: the
    caller decides what a closed one means)."""
    from tickets.models import Ticket

    return get(Ticket, order_by="-updated_at", customer_id=customer_id, channel=channel)


def has_written_on(ticket_id: int, identity_id: int) -> bool:
    """Whether this identity has a message on this ticket."""
    from tickets.models import Message

    return exists(Message, ticket_id=ticket_id, identity_id=identity_id)


def sender_count_last_hour(channel: str, address: str, since, limit: int) -> int:
    """Inbound messages from this address stored since `since` (an hour ago, for the flood
    breaker), counted up to `limit` only: the count stops where the answer is known."""
    from tickets.models import Identity, Message

    key = ("sender_count", connection.vendor)
    if key not in _STATEMENTS:
        m, i = Message._meta, Identity._meta

        def mc(name):
            return _column(Message, name)

        def ic(name):
            return _column(Identity, name)
        _STATEMENTS[key] = (
            f"SELECT COUNT(*) FROM (SELECT 1 FROM {_q(m.db_table)} m JOIN {_q(i.db_table)} i "  # noqa: S608
            f"ON m.{mc('identity')} = i.{_q(i.pk.column)} WHERE i.{ic('channel')} = %s AND i.{ic('address')} = %s "
            f"AND m.{mc('direction')} = %s AND m.{mc('created_at')} >= %s LIMIT %s) recent", [])
    sql, _ = _STATEMENTS[key]
    with _cursor() as cursor:
        cursor.execute(sql, [channel, address, Message.Direction.INBOUND,
                             connection.ops.adapt_datetimefield_value(since), limit])
        return cursor.fetchone()[0]


def sent_texts_to(channel: str, address: str, limit: int) -> list[str]:
    """The texts of the latest non-empty outbound messages to the customer this address
    belongs to, newest first: one statement (the customer through a subquery on the identity)."""
    from tickets.models import Identity, Message

    key = ("sent_texts_to", connection.vendor)
    if key not in _STATEMENTS:
        _STATEMENTS[key] = (
            f"SELECT {_column(Message, 'text')} FROM {_q(Message._meta.db_table)} "  # noqa: S608
            f"WHERE {_column(Message, 'customer')} = (SELECT {_column(Identity, 'customer')} "
            f"FROM {_q(Identity._meta.db_table)} WHERE {_column(Identity, 'channel')} = %s "
            f"AND {_column(Identity, 'address')} = %s) AND {_column(Message, 'direction')} = %s "
            f"AND {_column(Message, 'text')} <> %s ORDER BY {_column(Message, 'created_at')} DESC LIMIT %s", [])
    statement, _ = _STATEMENTS[key]
    with _cursor() as cursor:
        cursor.execute(statement, [channel, address, Message.Direction.OUTBOUND, "", limit])
        return [row[0] for row in cursor.fetchall()]


# -- named queries: the event log -------------------------------------------------------------------

def advance_event_counter(count: int) -> int | None:
    """Reserve `count` event sequence numbers; the last one, or None when the counter row does
    not exist yet. The UPDATE holds the row's lock until commit: seq order is commit order."""
    from tickets.models import EventCounter

    meta = EventCounter._meta
    value = _q(meta.get_field("value").column)
    with _cursor() as cursor:
        cursor.execute(f"UPDATE {_q(meta.db_table)} SET {value} = {value} + %s "  # noqa: S608
                       f"WHERE {_q(meta.pk.column)} = 1 RETURNING {value}", [count])
        row = cursor.fetchone()
    return row[0] if row else None


EVENT_COLUMNS = ("seq", "kind", "ticket_id", "customer_id", "message_id", "public", "data", "created_at")


def insert_events(rows: list[tuple]) -> None:
    """Event rows (values in EVENT_COLUMNS order), as one multi-row INSERT."""
    from tickets.models import Event

    ops, meta = connection.ops, Event._meta
    encoder = meta.get_field("data").encoder
    columns = ", ".join(_q(meta.get_field(name).column) for name in EVENT_COLUMNS)
    placeholders = ", ".join([f"({', '.join(['%s'] * len(EVENT_COLUMNS))})"] * len(rows))
    params = []
    for seq, kind, ticket_id, customer_id, message_id, public, data, created_at in rows:
        params += [seq, kind, ticket_id, customer_id, message_id, public,
                   ops.adapt_json_value(data, encoder), ops.adapt_datetimefield_value(created_at)]
    with _cursor() as cursor:
        cursor.execute(f"INSERT INTO {_q(meta.db_table)} ({columns}) VALUES {placeholders}", params)  # noqa: S608


def allocate_and_insert_events(rows: list[tuple]) -> int | None:
    """PostgreSQL: reserve len(rows) sequence numbers and insert the events under them in ONE
    statement (a data-modifying CTE: the counter's UPDATE feeds the INSERT), one round trip
    fewer per change than advance_event_counter() + insert_events(). `rows` are EVENT_COLUMNS'
    values without the seq; returns the last seq, or None when the counter row does not exist
    yet (nothing is inserted then). The counter row stays locked until commit, as before."""
    from tickets.models import Event, EventCounter

    ops, meta = connection.ops, Event._meta
    key = ("allocate_insert", connection.vendor, len(rows))
    if key not in _STATEMENTS:
        names = EVENT_COLUMNS[1:]
        columns = [_q(meta.get_field(name).column) for name in EVENT_COLUMNS]
        types = [meta.get_field(name).db_type(connection) for name in names]
        value = _q(EventCounter._meta.get_field("value").column)
        row = f"(%s::integer, {', '.join(f'%s::{t}' for t in types)})"
        _STATEMENTS[key] = (
            f"WITH c AS (UPDATE {_q(EventCounter._meta.db_table)} SET {value} = {value} + %s "  # noqa: S608
            f"WHERE {_q(EventCounter._meta.pk.column)} = 1 RETURNING {value}) "
            f"INSERT INTO {_q(meta.db_table)} ({', '.join(columns)}) "
            f"SELECT c.{value} - %s + v.n, {', '.join('v.' + c for c in columns[1:])} "
            f"FROM c, (VALUES {', '.join([row] * len(rows))}) AS v(n, {', '.join(columns[1:])}) "
            f"RETURNING {columns[0]}", None)
    statement, _ = _STATEMENTS[key]
    encoder = meta.get_field("data").encoder
    params = [len(rows), len(rows)]
    for n, (kind, ticket_id, customer_id, message_id, public, data, created_at) in enumerate(rows, start=1):
        params += [n, kind, ticket_id, customer_id, message_id, public,
                   ops.adapt_json_value(data, encoder), ops.adapt_datetimefield_value(created_at)]
    with _cursor() as cursor:
        cursor.execute(statement, params)
        seqs = [seq for (seq,) in cursor.fetchall()]
    return max(seqs) if seqs else None


CARRIED_COLUMNS = ("seq", "kind", "ticket_id", "customer_id", "data", "public", "team_id", "prev")


def carried_events(after: int, upto: int | None = None, limit: int | None = None) -> list[tuple]:
    """The events after `after` (up to `upto`), oldest first, as doorbells carry them
    (CARRIED_COLUMNS): with their ticket's team and `prev`, the seq of the same customer's
    previous link in its chain: a public event, or a customer-wide one (no ticket: a merge, its
    undo, which can move tickets away from the customer; tickets.events.Carried). One index
    probe on event_customer_idx per row. Run after
    every commit that records events (tickets.events.carried), where compiling the ORM's
    version (a join and a correlated subquery) cost ~0.7 ms per webhook, more than the
    ingest's own statements together."""
    from tickets.models import Event, Ticket

    key = ("carried", connection.vendor, upto is not None, limit is not None)
    if key not in _STATEMENTS:
        attnames = CARRIED_COLUMNS[:6]
        readers = _readers(Event, attnames)
        events, tickets = _q(Event._meta.db_table), _q(Ticket._meta.db_table)
        column = partial(_column, Event)
        _STATEMENTS[key] = (
            f"SELECT {', '.join('e.' + _q(f.column) for f, _c, _v in readers)}, t.{_column(Ticket, 'team')}, "  # noqa: S608
            f"(SELECT p.{column('seq')} FROM {events} p WHERE p.{column('customer')} = e.{column('customer')} "
            f"AND (p.{column('public')} = %s OR p.{column('ticket')} IS NULL) AND p.{column('seq')} < e.{column('seq')} "
            f"ORDER BY p.{column('seq')} DESC LIMIT 1) "
            f"FROM {events} e LEFT OUTER JOIN {tickets} t ON t.{_q(Ticket._meta.pk.column)} = e.{column('ticket')} "
            f"WHERE e.{column('seq')} > %s{f' AND e.{column('seq')} <= %s' if upto is not None else ''} "
            f"ORDER BY e.{column('seq')}{' LIMIT %s' if limit is not None else ''}", readers)
    statement, readers = _STATEMENTS[key]
    params = [True, after] + ([upto] if upto is not None else []) + ([limit] if limit is not None else [])
    with _cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    return [(*_convert(row[:6], readers), row[6], row[7]) for row in rows]

# -- named queries: search and bulk loading --------------------------------------------------------

def fts5_matches(fts_table: str, query: str, limit: int) -> list[int]:
    """SQLite: rowids of an FTS5 table (tickets.search's index) matching a query, newest first."""
    fts = _q(fts_table)
    with _cursor() as cursor:
        cursor.execute(f"SELECT rowid FROM {fts} WHERE {fts} MATCH %s ORDER BY rowid DESC LIMIT %s",  # noqa: S608
                       [query, limit])
        return [row[0] for row in cursor.fetchall()]


def tsquery_matches(table: str, expression: str, query: str, limit: int) -> list[int]:
    """PostgreSQL: ids of rows whose indexed tsvector `expression` (tickets.search's GIN index
    definition, a constant) matches a to_tsquery, newest first."""
    with _cursor() as cursor:
        cursor.execute(f"SELECT id FROM {_q(table)} WHERE {expression} @@ to_tsquery('simple', %s) "  # noqa: S608
                       "ORDER BY id DESC LIMIT %s", [query, limit])
        return [row[0] for row in cursor.fetchall()]


# -- the ingest spool (tickets/ingest_spool.py: a SQLite file of its own, sqlite3 connections) ---

def _spool_columns(columns: list[str]) -> str:
    return ", ".join(f'"{column}"' for column in columns)


def spool_create(db, columns: list[str]) -> None:
    """The spool's one table: an id giving the order, then `prepared_row`'s columns untyped
    (SQLite keeps each value as the ORM prepared it). A column the model gained since the file
    was made is added (a spool from before an upgrade keeps its rows). WAL and synchronous=NORMAL
    as the main database: a commit survives a crash of the process."""
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(f"CREATE TABLE IF NOT EXISTS spooled (id INTEGER PRIMARY KEY AUTOINCREMENT, {_spool_columns(columns)})")
    present = {row[1] for row in db.execute("PRAGMA table_info(spooled)")}
    for column in columns:
        if column not in present:
            db.execute(f"ALTER TABLE spooled ADD COLUMN {_spool_columns([column])}")


def spool_append(db, columns: list[str], values: list) -> None:
    db.execute(f"INSERT INTO spooled ({_spool_columns(columns)}) "  # noqa: S608
               f"VALUES ({', '.join('?' * len(columns))})", values)


def spool_oldest(db, columns: list[str], limit: int) -> list[tuple]:
    """Up to `limit` spooled rows, oldest first: (id, *values in `columns` order)."""
    return db.execute(f"SELECT id, {_spool_columns(columns)} FROM spooled ORDER BY id LIMIT ?",  # noqa: S608
                      (limit,)).fetchall()


def spool_delete_upto(db, last_id: int) -> None:
    db.execute("DELETE FROM spooled WHERE id <= ?", (last_id,))


def spool_count(db) -> int:
    return db.execute("SELECT count(*) FROM spooled").fetchone()[0]


def sqlite_schema_names(using: str = "default") -> set[str]:
    """Names of the tables and triggers of a SQLite database."""
    from django.db import connections

    with connections[using].cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
        return {row[0] for row in cursor.fetchall()}


def bulk_insert(model: type[Model], fields: tuple[str, ...], rows, *, batch: int, progress=None) -> None:
    """Rows of already database-ready values (in `fields` order: attnames), written `batch` at a
    time, one transaction each (seed_demo's large datasets)."""
    meta = model._meta
    columns = [_q(meta.get_field(name).column) if name != "id" else _q(meta.pk.column) for name in fields]
    sql = (f"INSERT INTO {_q(meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
           f"VALUES ({', '.join(['%s'] * len(columns))})")
    pending = []
    with _cursor() as cursor:
        for row in rows:
            pending.append(row)
            if len(pending) >= batch:
                with transaction.atomic():
                    cursor.executemany(sql, pending)
                if progress:
                    progress.add(len(pending))
                pending = []
        if pending:
            with transaction.atomic():
                cursor.executemany(sql, pending)
            if progress:
                progress.add(len(pending))


def bulk_load_started() -> None:
    """SQLite: fewer fsyncs while a bulk load runs (WAL keeps the file safe)."""
    if connection.vendor == "sqlite":
        with _cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")


def bulk_load_finished(models) -> None:
    """Back to normal durability, sequences past the explicit ids written (PostgreSQL), and
    fresh statistics so the planner picks the queue indexes."""
    with _cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA synchronous=NORMAL")
        elif connection.vendor == "postgresql":
            from django.core.management.color import no_style

            for statement in connection.ops.sequence_reset_sql(no_style(), list(models)):
                cursor.execute(statement)
        cursor.execute("ANALYZE")
