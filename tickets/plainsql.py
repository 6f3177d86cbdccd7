"""Plain-SQL insert and update of model instances, for the ingest hot path.

On a small server compiling an ORM statement costs several times more than running it (an
insert's compiler alone was ~0.2 ms here, the SQLite statement ~0.03 ms), and one ingest writes
half a dozen rows. These helpers build each model's statement once per process and convert
values exactly as the ORM does (`Field.pre_save`, then `Field.get_db_prep_save`), so auto_now
timestamps, JSON, files and time zones come out the same. Errors are Django's own: the cursor
wraps them (an IntegrityError is `django.db.IntegrityError`), so race handling is unchanged.

No signals are sent: nothing in this project listens to model signals (the search index is
kept by database triggers). A model with database defaults or generated fields is refused
rather than half-supported.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Model

_INSERTS: dict[tuple[type, str], tuple[str, list]] = {}
_UPDATES: dict[tuple[type, str, tuple[str, ...]], tuple[str, list]] = {}


def _check(model: type[Model]) -> None:
    for field in model._meta.concrete_fields:
        if getattr(field, "generated", False) or field.has_db_default():
            raise TypeError(f"plainsql cannot write {model.__name__}.{field.name} (database default or generated)")


def insert(obj: Model) -> Model:
    """INSERT one new instance (its primary key unset, unless the model has no auto key: a
    one-to-one primary key is set by the caller) and set the key it was given."""
    model = type(obj)
    key = (model, connection.vendor)
    if key not in _INSERTS:
        _check(model)
        meta, q = model._meta, connection.ops.quote_name
        fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field]
        sql = (f"INSERT INTO {q(meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "  # noqa: S608
               f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {q(meta.pk.column)}")
        _INSERTS[key] = (sql, fields)
    sql, fields = _INSERTS[key]
    if obj.pk is not None and model._meta.auto_field is not None:
        raise ValueError("plainsql.insert() is for new rows; this one already has a primary key")
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection=connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        obj.pk = cursor.fetchone()[0]
    obj._state.adding, obj._state.db = False, connection.alias
    return obj


def update(obj: Model, fields: tuple[str, ...]) -> Model:
    """UPDATE the named fields of a saved instance (like save(update_fields=...), no signals)."""
    model = type(obj)
    key = (model, connection.vendor, fields)
    if key not in _UPDATES:
        _check(model)
        meta, q = model._meta, connection.ops.quote_name
        model_fields = [meta.get_field(name) for name in fields]
        assignments = ", ".join(f"{q(f.column)} = %s" for f in model_fields)
        sql = f"UPDATE {q(meta.db_table)} SET {assignments} WHERE {q(meta.pk.column)} = %s"  # noqa: S608
        _UPDATES[key] = (sql, model_fields)
    sql, model_fields = _UPDATES[key]
    params = [f.get_db_prep_save(f.pre_save(obj, False), connection=connection) for f in model_fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, obj.pk])
    return obj


_SELECTS: dict[tuple[type, str, str], tuple[str, list]] = {}


def select_one(model: type[Model], where: str, params, *, order_by: str = "") -> Model | None:
    """The first instance matching a plain-SQL WHERE (columns of `model`'s table), converted
    from the database as the ORM converts it (SQLite's text datetimes, JSON), or None."""
    key = (model, connection.vendor, where + "|" + order_by)
    if key not in _SELECTS:
        columns = _columns(model, [f.attname for f in model._meta.concrete_fields])
        sql = (f"SELECT {', '.join(connection.ops.quote_name(f.column) for f, _c, _v in columns)} "  # noqa: S608
               f"FROM {connection.ops.quote_name(model._meta.db_table)} "
               f"WHERE {where}{f' ORDER BY {order_by}' if order_by else ''} LIMIT 1")
        _SELECTS[key] = (sql, columns)
    sql, columns = _SELECTS[key]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    return model.from_db(connection.alias, [f.attname for f, _c, _v in columns], _convert(row, columns))


def select_values(model: type[Model], fields: tuple[str, ...], where: str, params) -> list[tuple]:
    """Rows of some fields (attnames) of `model` matching a plain-SQL WHERE, converted as the
    ORM converts them (SQLite's text datetimes, JSON): values_list() without its compile."""
    key = (model, connection.vendor, "values|" + "|".join(fields) + "|" + where)
    if key not in _SELECTS:
        columns = _columns(model, fields)
        sql = (f"SELECT {', '.join(connection.ops.quote_name(f.column) for f, _c, _v in columns)} "  # noqa: S608
               f"FROM {connection.ops.quote_name(model._meta.db_table)} WHERE {where}")
        _SELECTS[key] = (sql, columns)
    sql, columns = _SELECTS[key]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [tuple(_convert(row, columns)) for row in rows]


def _columns(model: type[Model], attnames) -> list[tuple]:
    """(field, column, converters) of these fields, for reading rows as the ORM would."""
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    columns = []
    for name in attnames:
        field = by_attname[name]
        col = field.get_col(model._meta.db_table)
        columns.append((field, col, connection.ops.get_db_converters(col) + col.get_db_converters(connection)))
    return columns


def _convert(row, columns) -> list:
    values = []
    for value, (_field, col, converters) in zip(row, columns, strict=True):
        for converter in converters:
            value = converter(value, col, connection)
        values.append(value)
    return values
