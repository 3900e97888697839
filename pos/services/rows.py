"""A model's rows written and read with plain statements whose text is built once (issue 30).

Django builds every ORM statement anew from its query tree: on checkout's path that cost
0.5-1 ms of CPU per statement on the bench machine, against about 0.05 ms for a plain statement
through the same cursor (bench/README.md, "The app's CPU per API sale"). The helpers here build
a statement's text once per model and field list and move values through the fields exactly as
the ORM does, so callers get model instances that behave as the ORM's:

- `insert`: what `bulk_create` writes and sets on the instances (pk, saved state), values taken
  through each field's `pre_save` and `get_db_prep_save`; RETURNING the ids where the backend
  can return them for several rows, else one row at a time; on PostgreSQL several rows go as
  one array per column (`UNNEST`, as `bulk_create` writes them there). Like `bulk_create`, no
  signals (none of the models written with it has a receiver) and plain values only (no
  expressions).
- `new`: an unsaved instance built from keyword arguments with the state `Model(**kwargs)`
  gives it, without `Model.__init__`'s general machinery (8% of an API sale's CPU for the 13
  instances a 5-line sale writes).
- `cursor`: one database cursor kept per connection for these plain statements.
- `columns` and `loaded`: a model's select list under a table alias, and an instance built from
  a row of it through the backend's and the field's converters, as a queryset builds one
  (`Model.from_db`). `select_related` is `related(instance, field, other)`.
"""

import inspect
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from django.db import DEFAULT_DB_ALIAS, connections, models, router
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

# The most parameters one INSERT takes: PostgreSQL's limit with server-side binding (the
# backend's own, smaller, batch size applies where it has one: SQLite's).
MAX_PARAMETERS = 65_535

# The value types each of these field classes' get_db_prep_save gives back as they are (an
# equal value of the same type), on PostgreSQL and SQLite: CharField.to_python returns a str or
# None, BooleanField's a bool, DecimalField's Decimal(value) of a finite Decimal (any other
# raises, so those go through the field), an auto field's int(value) with the backend's
# validate_autopk_value (MySQL's alone checks). A foreign key to an auto field gives its
# target's. tests/pos/test_rows.py checks each against get_db_prep_save.
_AS_THEY_ARE = {
    models.CharField: frozenset({str, type(None)}),
    models.TextField: frozenset({str, type(None)}),
    models.BooleanField: frozenset({bool, type(None)}),
    models.DecimalField: frozenset({Decimal, type(None)}),
    models.AutoField: frozenset({int, type(None)}),
    models.BigAutoField: frozenset({int, type(None)}),
    models.SmallAutoField: frozenset({int, type(None)}),
}

_inserts: dict = {}
_columns: dict = {}
_converters: dict = {}
_news: dict = {}


def _db():
    """The default database's connection itself: `connection` is a proxy that looks it up on
    each attribute read (about a microsecond each, hundreds per sale)."""
    return connections[DEFAULT_DB_ALIAS]


class _KeptCursor:
    """`with rows.cursor() as cursor:` gives Django's cursor wrapper around the kept cursor
    and leaves it open on exit."""

    __slots__ = ("wrapper",)

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def __enter__(self):
        return self.wrapper

    def __exit__(self, *exc_info):
        return False


def cursor() -> _KeptCursor:
    """A cursor for one statement whose rows are fetched before the next is sent, as Django's
    `connection.cursor()` gives it (the same wrapper: statements logged where Django logs
    them, its errors, the broken-transaction check), but on one database cursor kept per
    connection instead of a new one each time.

    Why: a new psycopg cursor copies the connection's adapters and finds each parameter's
    dumper and each column's loader anew, 20-40 µs of CPU per statement on the bench machine
    (a reused one: its own caches), for the 13 statements of an API sale. The kept cursor
    goes with its connection (a new connection, or a changed time zone, which Django gives a
    cursor its loader for, gets a new one). Use it as `with rows.cursor() as cursor:` and
    fetch its rows inside: the next statement anywhere replaces them."""
    db = _db()
    db.close_if_health_check_failed()
    kept = getattr(db, "_vevurn_kept_cursor", None)
    if (
        kept is None
        or kept[0] is not db.connection
        or kept[1] != db.timezone
        or getattr(kept[2], "closed", False)
    ):
        wrapper = db.cursor()  # connects if need be
        db._vevurn_kept_cursor = (db.connection, db.timezone, wrapper.cursor)
        return _KeptCursor(wrapper)
    return _KeptCursor(db._prepare_cursor(kept[2]))


def as_they_are(field) -> frozenset:
    """The types of value `field.get_db_prep_save` returns unchanged (see `_AS_THEY_ARE`)."""
    if type(field) is models.ForeignKey:
        target = field.target_field
        return _AS_THEY_ARE.get(type(target), frozenset()) & {int, type(None)}
    return _AS_THEY_ARE.get(type(field), frozenset())


class _Insert:
    """An INSERT of one model's fields: its text per row, and how each value is taken."""

    def __init__(self, db, model, names: tuple[str, ...] | None):
        meta = model._meta
        if names is None:
            fields = [f for f in meta.concrete_fields if not f.primary_key]
        else:
            fields = [meta.get_field(name) for name in names]
            if any(not f.concrete or f.primary_key for f in fields):
                raise ValueError(f"{model.__name__}: write concrete fields, not the pk: {names}")
        quote = db.ops.quote_name
        self.model = model
        self.fields = fields
        self.table = quote(meta.db_table)
        self.pk_column = meta.pk.column
        names = ", ".join(quote(f.column) for f in fields)
        self.prefix = f"INSERT INTO {self.table} ({names}) VALUES "  # noqa: S608 - the model's own names
        self.row = f"({', '.join(['%s'] * len(fields))})"
        self.returning = f" RETURNING {quote(self.pk_column)}"
        self.unnest = _unnest(db, fields, self.prefix[: -len("VALUES ")], self.returning)
        # A field whose class keeps Field.pre_save gives its attribute as it is; the others
        # (auto_now_add dates, files) go through pre_save, as Model.save and bulk_create do.
        self.takes = [
            (
                f,
                f.attname,
                type(f).pre_save is models.Field.pre_save,
                f.get_db_prep_save,
                as_they_are(f),
            )
            for f in fields
        ]

    def values(self, obj, db) -> list:
        """The row's parameters: each value as its field's get_db_prep_save gives it."""
        if obj.pk is not None:
            raise ValueError(f"{obj!r} has a primary key already: insert writes new rows only.")
        row = []
        for field, attname, plain, prepare, unchanged in self.takes:
            value = getattr(obj, attname) if plain else field.pre_save(obj, True)
            kind = type(value)
            if kind in unchanged and (kind is not Decimal or value.is_finite()):
                row.append(value)
                continue
            if hasattr(value, "resolve_expression"):
                raise TypeError(f"{field}: insert writes plain values, not {value!r}.")
            row.append(prepare(value, db))
        return row


def _unnest(db, fields, prefix: str, returning: str) -> str | None:
    """PostgreSQL: the INSERT of any number of rows as one array per column, or None where a
    field's values cannot go in an array (the cases Django's own bulk_create leaves out of it,
    postgresql.compiler.SQLInsertCompiler.assemble_as_sql).

    Why: psycopg caches its parse of a statement only up to 50 parameters
    (psycopg._queries.MAX_CACHED_STATEMENT_PARAMS) and splits a longer one with a regular
    expression on every execution (a 5-line sale's lines take 90, its movements 65). With an
    array per column the text and the number of parameters no longer depend on the rows. Each
    array's type is the column's without its length or precision (varchar[], numeric[]), so
    the column itself checks or rounds each value as it does a value in VALUES."""
    if db.vendor != "postgresql":
        return None
    types = []
    for field in fields:
        target = field.target_field if field.is_relation else field
        db_type = field.db_type(db)
        if (
            db_type is None
            or hasattr(field, "get_placeholder")
            or target.get_internal_type() not in db.data_types
        ):
            return None
        types.append(db_type.split("(")[0])
    arrays = ", ".join(f"(%s)::{db_type}[]" for db_type in types)
    return f"{prefix}SELECT * FROM UNNEST({arrays}){returning}"  # noqa: S608 - the model's own names


# The types whose text in an array is str(value), as psycopg's text dumpers write each of them
# alone (ints of any size, finite decimals, dates, times with or without a zone, UUIDs).
_WRITTEN_AS_STR = frozenset({int, Decimal, date, datetime, UUID})


def array(column: tuple):
    """A column's values as PostgreSQL's array input text: each value double-quoted (so no
    text can be read as NULL, a separator or a nested array), backslashes and double quotes
    escaped, NULL for None. psycopg's list dumper writes the same text, but first scans the
    list twice for its element type (3x the CPU for a 5-line sale's columns). A value of any
    other type leaves the column to that dumper."""
    items = []
    for value in column:
        kind = type(value)
        if value is None:
            items.append("NULL")
        elif kind is str:
            items.append('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
        elif kind is bool:
            items.append("t" if value else "f")
        elif (kind in _WRITTEN_AS_STR or isinstance(value, int)) and (
            kind is not Decimal or value.is_finite()
        ):
            items.append('"' + str(value) + '"')
        else:
            return list(column)
    return "{" + ",".join(items) + "}"


def _plan(db, model, fields) -> _Insert:
    key = (db.vendor, model, fields)
    plan = _inserts.get(key)
    if plan is None:
        plan = _inserts[key] = _Insert(db, model, fields)
    return plan


def insert(objs: list, fields: tuple[str, ...] | None = None, *, along=()) -> list:
    """Write `objs` (new instances of one model, no pk yet) and set each one's pk and saved
    state (`_state.adding` False, `_state.db`), as `bulk_create` does; returns `objs`.

    `fields`: the names of the fields to write (the others take their column's default);
    None: every concrete field but the pk, as `bulk_create` writes.
    `along`: other writes, (sql, params) each, that go with these rows: on PostgreSQL in the
    INSERT's own statement (WITH queries: one round trip and one statement for all), elsewhere
    each before it. A WITH query runs whatever the INSERT does but does not see its rows, so
    they must not read them.
    """
    db = _db()
    if not objs:
        _write_each(db, along)
        return objs
    model = type(objs[0])
    if any(type(obj) is not model for obj in objs):
        raise TypeError("insert writes rows of one model at a time.")
    plan = _plan(db, model, fields)
    rows = [plan.values(obj, db) for obj in objs]
    features = db.features
    with_, first = _with(db, along)
    with cursor() as db_cursor:
        if features.can_return_rows_from_bulk_insert:
            size = min(
                max(db.ops.bulk_batch_size(plan.fields, objs), 1),
                max(MAX_PARAMETERS // len(plan.fields), 1),
            )
            for start in range(0, len(objs), size):
                batch = rows[start : start + size]
                if plan.unnest is not None and len(batch) > 1:
                    sql = plan.unnest
                    params = [array(column) for column in zip(*batch, strict=True)]
                else:
                    sql = plan.prefix + ", ".join([plan.row] * len(batch)) + plan.returning
                    params = [value for row in batch for value in row]
                # The other writes go with the first batch.
                db_cursor.execute(with_ + sql, [*first, *params])
                with_, first = "", []
                # The rows are numbered in the order they are inserted (a sequence, SQLite's
                # rowid), whatever order RETURNING lists them in.
                ids = sorted(pk for (pk,) in db_cursor.fetchall())
                for obj, pk in zip(objs[start : start + size], ids, strict=True):
                    obj.pk = pk
        else:
            returning = features.can_return_columns_from_insert
            for obj, row in zip(objs, rows, strict=True):
                db_cursor.execute(
                    plan.prefix + plan.row + (plan.returning if returning else ""), row
                )
                obj.pk = (
                    db_cursor.fetchone()[0]
                    if returning
                    else db.ops.last_insert_id(db_cursor, plan.table, plan.pk_column)
                )
    for obj in objs:
        obj._state.adding = False
        obj._state.db = db.alias
    return objs


def _with(db, along) -> tuple[str, list]:
    """PostgreSQL: the WITH clause that puts `along`'s writes in the INSERT's statement, and
    their parameters. Elsewhere (SQLite has no writes in WITH) they are written here, each
    alone."""
    if not along:
        return "", []
    if db.vendor != "postgresql" or not db.features.can_return_rows_from_bulk_insert:
        _write_each(db, along)
        return "", []
    queries = ", ".join(f"along{i} AS ({sql})" for i, (sql, _) in enumerate(along))
    return f"WITH {queries} ", [value for _, params in along for value in params]


def _write_each(db, along) -> None:
    with cursor() as db_cursor:
        for sql, params in along:
            db_cursor.execute(sql, params)


def columns(model, alias: str) -> str:
    """The select list of `model`'s concrete fields, in their order, its table named `alias`
    (`loaded` reads a row of it)."""
    db = _db()
    key = (db.vendor, model, alias)
    found = _columns.get(key)
    if found is None:
        quote = db.ops.quote_name
        found = _columns[key] = ", ".join(
            f"{quote(alias)}.{quote(f.column)}" for f in model._meta.concrete_fields
        )
    return found


def _converters_of(db, model) -> tuple[list, list]:
    """The attnames of `model`'s concrete fields, and (position, converters, column) for each
    field whose value the backend or the field converts, as the SQL compiler finds them.

    Kept per database alias: a backend's converters read only the alias's settings."""
    key = (db.alias, db.vendor, model)
    found = _converters.get(key)
    if found is None:
        fields = model._meta.concrete_fields
        converting = []
        for position, field in enumerate(fields):
            col = field.get_col(model._meta.db_table)
            found_here = db.ops.get_db_converters(col) + col.get_db_converters(db)
            if found_here:
                converting.append((position, found_here, col))
        found = _converters[key] = ([f.attname for f in fields], converting)
    return found


def _init_receivers(model) -> bool:
    """Whether a pre_init or post_init receiver listens to `model`. Signal.has_listeners looks
    the sender up on each call (about 1.5 µs, twice for each of the ~25 instances a sale builds
    or loads); mostly neither signal has any receiver at all, which is one attribute read."""
    return bool(
        (pre_init.receivers and pre_init.has_listeners(model))
        or (post_init.receivers and post_init.has_listeners(model))
    )


def loaded(model, row, start: int = 0):
    """The instance of `model` whose concrete fields' values are `row[start:]` (as `columns`
    lists them), as a queryset builds it."""
    db = _db()
    attnames, converting = _converters_of(db, model)
    values = list(row[start : start + len(attnames)])
    for position, converters, col in converting:
        value = values[position]
        for convert in converters:
            value = convert(value, col, db)
        values[position] = value
    plan = _news.get(model)
    if plan is None:
        plan = _news[model] = _New(model)
    if not plan.loadable or _init_receivers(model):
        return model.from_db(db.alias, attnames, values)
    # What from_db's Model.__init__(*values) leaves, without its loop of setattr: each plain
    # attribute written into the instance's __dict__ (see _New), the state of a loaded row.
    obj = model.__new__(model)
    state = obj._state = ModelState()
    state.adding, state.db = False, db.alias
    obj.__dict__.update(zip(attnames, values, strict=True))
    return obj


def width(model) -> int:
    """How many columns `columns(model, ...)` lists."""
    return len(model._meta.concrete_fields)


def related(instance, name: str, other) -> None:
    """Keep `other` as `instance`'s `name` (a foreign key), as select_related does."""
    type(instance)._meta.get_field(name).set_cached_value(instance, other)


class _New:
    """How `new` builds one model's instances: per field, in `Model.__init__`'s order, its
    name, attname, default and, for a foreign key, the model it takes and the target's attname.
    `supported` is False where `Model.__init__` does more than this (a one-to-one field, a
    foreign object of several columns, a field whose attribute is not a plain deferred one, a
    generated or virtual field): those models always go through `Model.__init__`."""

    def __init__(self, model):
        self.fields = []
        self.supported = not model._meta.abstract
        for field in model._meta.fields:
            if field.column is None or field.generated:
                self.supported = False
                continue
            relation = None
            if field.is_relation:
                if field.one_to_one or len(field.related_fields) != 1:
                    self.supported = False
                    continue
                relation = (
                    field.remote_field.model._meta.concrete_model,
                    field.related_fields[0][1].attname,
                )
            # Setting a plain field's attribute (DeferredAttribute; a foreign key's id,
            # ForeignKeyDeferredAttribute, on an instance with nothing cached) only writes it
            # into the instance's __dict__.
            descriptor = inspect.getattr_static(model, field.attname, None)
            if type(descriptor) not in (DeferredAttribute, ForeignKeyDeferredAttribute):
                self.supported = False
            self.fields.append((field.name, field.attname, field.get_default, relation))
        # `loaded` builds an instance itself where from_db is Django's own and every concrete
        # field is one of these plain ones.
        self.loadable = (
            self.supported
            and model.from_db.__func__ is models.Model.from_db.__func__
            and len(self.fields) == len(model._meta.concrete_fields)
        )


def _related(obj, model, value, related_model, target_attname) -> bool:
    """What ForwardManyToOneDescriptor.__set__ checks and sets before relating `obj` to
    `value`: the related model, the router's database for writing `obj` (and `value` if it has
    none), and that the router allows the relation. False: Django would raise."""
    if not isinstance(value, related_model):
        return False
    if obj._state.db is None:
        obj._state.db = router.db_for_write(model, instance=value)
    if value._state.db is None:
        value._state.db = router.db_for_write(type(value), instance=obj)
    return router.allow_relation(value, obj)


def new(model, **values):
    """An unsaved `model` instance with `values` (fields by name, a foreign key by its name
    with an instance or None, or by its attname with an id): the same instance state as
    `model(**values)` (each field's attribute, its default where not given, a related
    instance cached as the relation's value, `_state.db` as the relation sets it), built
    without `Model.__init__`'s general loop. Anything this does not cover goes to
    `model(**values)` itself: pre_init/post_init receivers, a value that is not one of the
    model's fields, an instance of the wrong model or one the router does not allow (Django
    raises as it would). tests/pos/test_rows.py compares both for each model built this way."""
    plan = _news.get(model)
    if plan is None:
        plan = _news[model] = _New(model)
    if not plan.supported or _init_receivers(model):
        return model(**values)
    obj = model.__new__(model)
    state = obj._state = ModelState()
    attributes = obj.__dict__
    used = 0
    for name, attname, default, relation in plan.fields:
        if relation is not None and name in values:
            used += 1
            value = values[name]
            if value is not None and not _related(obj, model, value, *relation):
                return model(**values)  # raises Django's ValueError
            attributes[attname] = None if value is None else getattr(value, relation[1])
            state.fields_cache[name] = value
        elif attname in values:
            used += 1
            attributes[attname] = values[attname]
        else:
            attributes[attname] = default()
    if used != len(values):
        return model(**values)  # a property, an unknown name, a field given twice
    return obj
