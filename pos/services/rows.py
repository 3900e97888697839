"""A model's rows written and read with plain statements whose text is built once (issue 30).

Django builds every ORM statement anew from its query tree: on checkout's path that cost
0.5-1 ms of CPU per statement on the bench machine, against about 0.05 ms for a plain statement
through the same cursor (bench/README.md, "The app's CPU per API sale"). The helpers here build
a statement's text once per model and field list and move values through the fields exactly as
the ORM does, so callers get model instances that behave as the ORM's:

- `insert`: what `bulk_create` writes and sets on the instances (pk, saved state), values taken
  through each field's `pre_save` and `get_db_prep_save`; RETURNING the ids where the backend
  can return them for several rows, else one row at a time. Like `bulk_create`, no signals
  (none of the models written with it has a receiver) and plain values only (no expressions).
- `columns` and `loaded`: a model's select list under a table alias, and an instance built from
  a row of it through the backend's and the field's converters, as a queryset builds one
  (`Model.from_db`). `select_related` is `related(instance, field, other)`.
"""

from django.db import connection
from django.db.models import Field

# The most parameters one INSERT takes: PostgreSQL's limit with server-side binding (the
# backend's own, smaller, batch size applies where it has one: SQLite's).
MAX_PARAMETERS = 65_535

_inserts: dict = {}
_columns: dict = {}
_converters: dict = {}


class _Insert:
    """An INSERT of one model's fields: its text per row, and how each value is taken."""

    def __init__(self, model, names: tuple[str, ...] | None):
        meta = model._meta
        if names is None:
            fields = [f for f in meta.concrete_fields if not f.primary_key]
        else:
            fields = [meta.get_field(name) for name in names]
            if any(not f.concrete or f.primary_key for f in fields):
                raise ValueError(f"{model.__name__}: write concrete fields, not the pk: {names}")
        quote = connection.ops.quote_name
        self.model = model
        self.fields = fields
        self.table = quote(meta.db_table)
        self.pk_column = meta.pk.column
        names = ", ".join(quote(f.column) for f in fields)
        self.prefix = f"INSERT INTO {self.table} ({names}) VALUES "  # noqa: S608 - the model's own names
        self.row = f"({', '.join(['%s'] * len(fields))})"
        self.returning = f" RETURNING {quote(self.pk_column)}"
        # A field whose class keeps Field.pre_save gives its attribute as it is; the others
        # (auto_now_add dates, files) go through pre_save, as Model.save and bulk_create do.
        self.takes = [
            (f, f.attname, type(f).pre_save is Field.pre_save, f.get_db_prep_save) for f in fields
        ]

    def values(self, obj) -> list:
        if obj.pk is not None:
            raise ValueError(f"{obj!r} has a primary key already: insert writes new rows only.")
        row = []
        for field, attname, plain, prepare in self.takes:
            value = getattr(obj, attname) if plain else field.pre_save(obj, True)
            if hasattr(value, "resolve_expression"):
                raise TypeError(f"{field}: insert writes plain values, not {value!r}.")
            row.append(prepare(value, connection))
        return row


def _plan(model, fields) -> _Insert:
    key = (connection.vendor, model, fields)
    plan = _inserts.get(key)
    if plan is None:
        plan = _inserts[key] = _Insert(model, fields)
    return plan


def insert(objs: list, fields: tuple[str, ...] | None = None) -> list:
    """Write `objs` (new instances of one model, no pk yet) and set each one's pk and saved
    state (`_state.adding` False, `_state.db`), as `bulk_create` does; returns `objs`.

    `fields`: the names of the fields to write (the others take their column's default);
    None: every concrete field but the pk, as `bulk_create` writes.
    """
    if not objs:
        return objs
    model = type(objs[0])
    if any(type(obj) is not model for obj in objs):
        raise TypeError("insert writes rows of one model at a time.")
    plan = _plan(model, fields)
    rows = [plan.values(obj) for obj in objs]
    features = connection.features
    with connection.cursor() as cursor:
        if features.can_return_rows_from_bulk_insert:
            size = min(
                max(connection.ops.bulk_batch_size(plan.fields, objs), 1),
                max(MAX_PARAMETERS // len(plan.fields), 1),
            )
            for start in range(0, len(objs), size):
                batch = rows[start : start + size]
                cursor.execute(
                    plan.prefix + ", ".join([plan.row] * len(batch)) + plan.returning,
                    [value for row in batch for value in row],
                )
                # The rows are numbered in the order they are inserted (a sequence, SQLite's
                # rowid), whatever order RETURNING lists them in.
                ids = sorted(pk for (pk,) in cursor.fetchall())
                for obj, pk in zip(objs[start : start + size], ids, strict=True):
                    obj.pk = pk
        else:
            returning = features.can_return_columns_from_insert
            for obj, row in zip(objs, rows, strict=True):
                cursor.execute(plan.prefix + plan.row + (plan.returning if returning else ""), row)
                obj.pk = (
                    cursor.fetchone()[0]
                    if returning
                    else connection.ops.last_insert_id(cursor, plan.table, plan.pk_column)
                )
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs


def columns(model, alias: str) -> str:
    """The select list of `model`'s concrete fields, in their order, its table named `alias`
    (`loaded` reads a row of it)."""
    key = (connection.vendor, model, alias)
    found = _columns.get(key)
    if found is None:
        quote = connection.ops.quote_name
        found = _columns[key] = ", ".join(
            f"{quote(alias)}.{quote(f.column)}" for f in model._meta.concrete_fields
        )
    return found


def _converters_of(model) -> tuple[list, list]:
    """The attnames of `model`'s concrete fields, and (position, converters, column) for each
    field whose value the backend or the field converts, as the SQL compiler finds them.

    Kept per database alias: a backend's converters read only the alias's settings."""
    key = (connection.alias, connection.vendor, model)
    found = _converters.get(key)
    if found is None:
        fields = model._meta.concrete_fields
        converting = []
        for position, field in enumerate(fields):
            col = field.get_col(model._meta.db_table)
            found_here = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if found_here:
                converting.append((position, found_here, col))
        found = _converters[key] = ([f.attname for f in fields], converting)
    return found


def loaded(model, row, start: int = 0):
    """The instance of `model` whose concrete fields' values are `row[start:]` (as `columns`
    lists them), as a queryset builds it."""
    attnames, converting = _converters_of(model)
    values = list(row[start : start + len(attnames)])
    for position, converters, col in converting:
        value = values[position]
        for convert in converters:
            value = convert(value, col, connection)
        values[position] = value
    return model.from_db(connection.alias, attnames, values)


def width(model) -> int:
    """How many columns `columns(model, ...)` lists."""
    return len(model._meta.concrete_fields)


def related(instance, name: str, other) -> None:
    """Keep `other` as `instance`'s `name` (a foreign key), as select_related does."""
    type(instance)._meta.get_field(name).set_cached_value(instance, other)
