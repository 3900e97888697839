"""pos.services.rows: checkout's plain-SQL rows write and read what the ORM writes and reads."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.db.models import F
from django.db.models.sql import InsertQuery
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.numeric import Int4

from pos.models import Payment, Product, Sale, SaleLine, Shift, StockLevel, StockMovement
from pos.services import rows

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 12, 5, 10, 30, 15, 123456, tzinfo=UTC)


def stored(model, pk) -> dict:
    """The row as the ORM reads it back, without its pk."""
    values = model.objects.filter(pk=pk).values().get()
    values.pop("id")
    return values


def new_sale(shift, cashier, **changes) -> Sale:
    fields = {
        "number": f"T-{uuid.uuid4().hex[:8]}",
        "register_id": shift.register_id,
        "shift": shift,
        "cashier": cashier,
        "idempotency_key": uuid.uuid4(),
        "request_fingerprint": "f" * 64,
        "subtotal": Decimal("11800.00"),
        "discount_total": Decimal("0.50"),
        "tax_total": Decimal("1800"),
        "total": Decimal("11799.5"),
        "change_given": 3,
        "created_at": MOMENT,
        "business_day": MOMENT.date(),
        "buyer_tin": "123456789",
    }
    return Sale(**{**fields, **changes})


def children(sale, product, cashier, shift):
    line = SaleLine(
        sale=sale,
        product=product,
        product_name="Jerrycan 20 l — bleu",
        sku=product.sku,
        quantity=Decimal("1.250"),
        unit_name="kg",
        unit_factor=1,
        unit_quantity=None,
        price_source="Wholesale, from 10",
        shelf_price=Decimal("100.00"),
        unit_price=Decimal("90"),
        line_discount=Decimal("0.5"),
        total=Decimal("112.00"),
        tax=Decimal("17.08"),
        tax_rate=Decimal("18.00"),
        unit_cost=product.cost_price,
        oversold=True,
    )
    payment = Payment(
        sale=sale,
        shift=shift,
        tender="mobile_money",
        amount=Decimal("-12.5"),
        is_change=True,
        reference="MP123",
        provider="airtel",
        created_by=cashier,
        created_at=MOMENT,
    )
    movement = StockMovement(
        store_id=1,
        product=product,
        kind="sale",
        quantity=Decimal("-1.250"),
        stock_before=Decimal("10"),
        stock_after=Decimal("8.750"),
        unit_cost=None,
        reference_type="pos.sale",
        reference_id=str(sale.pk),
        reference_label=f"Sale {sale.number}",
        created_by=None,
    )
    return line, payment, movement


def ours(objs) -> list[list]:
    """What insert sends for `objs`, each value with its type."""
    db = connections["default"]
    plan = rows._plan(db, type(objs[0]), None)
    return [[(v, type(v)) for v in plan.values(obj, db)] for obj in objs]


def the_orms_parameters(objs) -> list[list]:
    """What bulk_create would send for `objs`: Django's insert compiler's values."""
    model = type(objs[0])
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    query = InsertQuery(model)
    query.insert_values(fields, objs)
    compiler = query.get_compiler(connection=connection)
    prepared = [
        [compiler.prepare_value(f, compiler.pre_save_val(f, obj)) for f in fields] for obj in objs
    ]
    return [[(v, type(v)) for v in row] for row in prepared]


def test_rows_written_are_those_bulk_create_writes(shift, cashier, product, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: MOMENT)  # the movements' auto_now_add
    ours = rows.insert([new_sale(shift, cashier)])[0]
    theirs = Sale.objects.bulk_create([new_sale(shift, cashier)])[0]
    assert {**stored(Sale, ours.pk), "number": "", "idempotency_key": None} == {
        **stored(Sale, theirs.pk),
        "number": "",
        "idempotency_key": None,
    }
    assert stored(Sale, ours.pk)["created_at"] == MOMENT
    assert stored(Sale, ours.pk)["idempotency_key"] == ours.idempotency_key

    for ours_child, theirs_child in zip(
        children(ours, product, cashier, shift),
        children(theirs, product, cashier, shift),
        strict=True,
    ):
        model = type(ours_child)
        rows.insert([ours_child])
        model.objects.bulk_create([theirs_child])
        mine, orms = stored(model, ours_child.pk), stored(model, theirs_child.pk)
        for parent in ("sale_id", "reference_id", "reference_label"):  # each points at its sale
            mine.pop(parent, None), orms.pop(parent, None)
        assert mine == orms, model
        assert (ours_child._state.adding, ours_child._state.db) == (False, "default")


def test_values_are_taken_as_the_orm_takes_them(shift, cashier, product, monkeypatch):
    """Each value goes through its field as Django's insert compiler sends it for bulk_create:
    the UUID as the backend stores it, an int for a decimal as a Decimal, auto_now_add's time."""
    monkeypatch.setattr(timezone, "now", lambda: MOMENT)
    sales = [new_sale(shift, cashier), new_sale(shift, cashier, change_given=3, customer=None)]
    assert ours(sales) == the_orms_parameters(sales)
    sale = rows.insert([new_sale(shift, cashier)])[0]
    for child in children(sale, product, cashier, shift):
        assert ours([child]) == the_orms_parameters([child])
    change = [f.name for f in rows._plan(connections["default"], Sale, None).fields]
    assert ours(sales[1:])[0][change.index("change_given")] == (Decimal(3), Decimal)


SAMPLES = {
    str: st.text(),
    bool: st.booleans(),
    Decimal: st.decimals(allow_nan=False, allow_infinity=False),
    int: st.integers(min_value=-(2**63), max_value=2**63 - 1),
    type(None): st.none(),
}
WRITTEN = (Sale, SaleLine, Payment, StockMovement)
TAKEN_AS_THEY_ARE = [
    (model, field)
    for model in WRITTEN
    for field in model._meta.concrete_fields
    if not field.primary_key and rows.as_they_are(field)
]


def test_most_of_checkouts_values_are_taken_as_they_are():
    """The shortcut covers the sale's, lines', payments' and movements' text, numbers, flags and
    foreign keys (their dates, times, UUIDs and small integers go through their fields)."""
    assert len(TAKEN_AS_THEY_ARE) >= 50
    assert {type(f).__name__ for _, f in TAKEN_AS_THEY_ARE} >= {
        "CharField",
        "DecimalField",
        "BooleanField",
        "ForeignKey",
    }


@pytest.mark.parametrize(
    ("model", "field"),
    TAKEN_AS_THEY_ARE,
    ids=[f"{m.__name__}.{f.name}" for m, f in TAKEN_AS_THEY_ARE],
)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_value_taken_as_it_is_is_what_get_db_prep_save_gives(model, field, data):
    db = connections["default"]
    kind = data.draw(st.sampled_from(sorted(rows.as_they_are(field), key=str)))
    value = data.draw(SAMPLES[kind])
    prepared = field.get_db_prep_save(value, db)
    assert (prepared, type(prepared)) == (value, kind)


def test_a_decimal_that_is_not_a_number_is_refused_as_the_orm_refuses_it(shift, cashier):
    for bad in (Decimal("NaN"), Decimal("Infinity")):
        with pytest.raises(ValidationError):
            Sale.objects.bulk_create([new_sale(shift, cashier, total=bad)])
        with pytest.raises(ValidationError):
            rows.insert([new_sale(shift, cashier, total=bad)])


def test_many_rows_are_one_statement_each_batch_and_each_object_gets_its_own_row(
    shift, cashier, monkeypatch
):
    sales = [new_sale(shift, cashier, total=Decimal(i)) for i in range(7)]
    with CaptureQueriesContext(connection) as one:
        rows.insert(sales[:3])
    assert len(one.captured_queries) == 1
    fields = len(rows._plan(connections["default"], Sale, None).fields)
    monkeypatch.setattr(rows, "MAX_PARAMETERS", fields * 2)  # 2 rows a statement
    with CaptureQueriesContext(connection) as batched:
        rows.insert(sales[3:])
    assert len(batched.captured_queries) == 2
    assert [Sale.objects.get(pk=s.pk).total for s in sales] == list(range(7))
    assert len({s.pk for s in sales}) == 7


@pytest.mark.parametrize("returning", [True, False])
def test_without_returning_several_rows_each_row_is_written_alone(
    shift, cashier, monkeypatch, returning
):
    if not returning and connection.vendor == "postgresql":
        pytest.skip("PostgreSQL returns ids; its cursor has no last row id")
    monkeypatch.setattr(type(connection.features), "can_return_rows_from_bulk_insert", False)
    monkeypatch.setattr(type(connection.features), "can_return_columns_from_insert", returning)
    sales = [new_sale(shift, cashier, total=Decimal(i)) for i in range(3)]
    with CaptureQueriesContext(connection) as captured:
        rows.insert(sales)
    assert len(captured.captured_queries) == 3
    assert [Sale.objects.get(pk=s.pk).total for s in sales] == [0, 1, 2]


def test_only_new_rows_of_one_model_with_plain_values(shift, cashier):
    sale = rows.insert([new_sale(shift, cashier)])[0]
    with pytest.raises(ValueError, match="primary key"):
        rows.insert([sale])
    with pytest.raises(TypeError, match="plain values"):
        rows.insert([new_sale(shift, cashier, total=F("subtotal"))])
    with pytest.raises(TypeError, match="one model"):
        rows.insert([new_sale(shift, cashier), Payment(amount=1, tender="cash")])
    with pytest.raises(ValueError, match="not the pk"):
        rows.insert([new_sale(shift, cashier)], fields=("id", "number"))
    assert rows.insert([]) == []


def test_a_field_list_writes_those_fields_and_the_columns_defaults_the_rest(shift, cashier):
    sale = new_sale(shift, cashier, cash_rounding=Decimal("5"))
    names = tuple(
        f.name for f in Sale._meta.concrete_fields if f.name not in ("id", "cash_rounding")
    )
    rows.insert([sale], fields=names)
    assert Sale.objects.get(pk=sale.pk).cash_rounding == 0  # db_default


def same_instance(ours, orms) -> None:
    assert type(ours) is type(orms)
    for field in type(orms)._meta.concrete_fields:
        mine, theirs = getattr(ours, field.attname), getattr(orms, field.attname)
        assert (mine, type(mine)) == (theirs, type(theirs)), field.name
    assert (ours._state.adding, ours._state.db) == (False, "default")


def test_loaded_instances_are_the_querysets(shift, cashier, product):
    """JSON, decimals, dates, times, UUIDs and booleans come out as the ORM gives them (on
    SQLite each goes through a converter)."""
    Product.objects.filter(pk=product.pk).update(attributes={"colour": "bleu", "litres": 20})
    Shift.objects.filter(pk=shift.pk).update(opening_count={"5000": 2}, expected={"cash": "1.5"})
    sale = rows.insert([new_sale(shift, cashier)])[0]
    level = StockLevel.objects.filter(product=product).first()
    for model, pk in (
        (Product, product.pk),
        (Shift, shift.pk),
        (Sale, sale.pk),
        (StockLevel, level.pk),
    ):
        row = _row(model, pk, before="1, ")
        assert len(row) == 1 + rows.width(model)
        loaded = rows.loaded(model, row, 1)
        same_instance(loaded, model.objects.get(pk=pk))
        if model is Product:
            assert loaded.attributes == {"colour": "bleu", "litres": 20}
        if model is Sale:
            assert loaded.idempotency_key == sale.idempotency_key
            assert loaded.created_at == MOMENT


def _row(model, pk, before: str = ""):
    """The row of `model` whose pk is `pk`, as `rows.columns` lists it, after `before`."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {before}{rows.columns(model, 't')} FROM {table} t WHERE t.id = %s",  # noqa: S608
            [pk],
        )
        return cursor.fetchone()


def test_a_loaded_instance_is_what_from_db_builds(shift, cashier, product):
    """`loaded` builds the instance itself (no Model.__init__): the same attributes and state
    as `Model.from_db`, for each model a sale reads; a model with an init receiver goes
    through from_db (the receiver sees it)."""
    from django.db.models.signals import post_init

    sale = rows.insert([new_sale(shift, cashier)])[0]
    level = StockLevel.objects.filter(product=product).first()
    register = type(shift.register)
    for model, pk in (
        (Product, product.pk),
        (Shift, shift.pk),
        (register, shift.register_id),
        (Sale, sale.pk),
        (StockLevel, level.pk),
    ):
        ours = rows.loaded(model, _row(model, pk))
        orms = model.objects.get(pk=pk)
        assert type(ours) is model
        assert {k: v for k, v in vars(ours).items() if k != "_state"} == {
            k: v for k, v in vars(orms).items() if k != "_state"
        }
        for name in ("adding", "db", "fields_cache"):  # the cache is made when first read
            assert getattr(ours._state, name) == getattr(orms._state, name), name

    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=Shift)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {rows.columns(Shift, 't')} FROM pos_shift t WHERE t.id = %s",  # noqa: S608
                [shift.pk],
            )
            loaded = rows.loaded(Shift, cursor.fetchone())
    finally:
        post_init.disconnect(receiver, sender=Shift)
    assert seen == [loaded]


def test_related_is_what_select_related_keeps(shift):
    plain = Shift.objects.get(pk=shift.pk)
    register = type(shift.register).objects.get(pk=shift.register_id)
    rows.related(plain, "register", register)
    with CaptureQueriesContext(connection) as captured:
        assert plain.register is register
    assert captured.captured_queries == []


def test_a_sale_sends_the_signals_its_create_sent(sell, product):
    """Checkout writes the sale with rows.insert, not Sale.objects.create: an app listening to
    a sale's pre_save and post_save (the fault tests' hold does) still hears it, once."""
    from django.db.models.signals import post_save, pre_save

    heard = []

    def before(sender, instance, **kwargs):
        heard.append(("pre_save", instance.pk, instance.number))

    def after(sender, instance, created, **kwargs):
        heard.append(
            ("post_save", instance.pk, created, Sale.objects.filter(pk=instance.pk).exists())
        )

    pre_save.connect(before, sender=Sale, dispatch_uid="test-rows-before")
    post_save.connect(after, sender=Sale, dispatch_uid="test-rows-after")
    try:
        sale = sell((product, 1))
    finally:
        pre_save.disconnect(sender=Sale, dispatch_uid="test-rows-before")
        post_save.disconnect(sender=Sale, dispatch_uid="test-rows-after")

    assert heard == [("pre_save", None, sale.number), ("post_save", sale.pk, True, True)]


AWKWARD_TEXTS = ["NULL", "", ' "quoted" ', "{braces}, commas", "back\\slash", "it's", "Ŕwanda ✓"]


def test_several_rows_are_those_bulk_create_writes(shift, cashier, product, monkeypatch):
    """Rows written together (on PostgreSQL one array per column) equal bulk_create's, with
    texts an array literal must quote, empty and missing values, and decimals to the column's
    places."""
    monkeypatch.setattr(timezone, "now", lambda: MOMENT)
    ours_sale = rows.insert([new_sale(shift, cashier)])[0]
    theirs_sale = Sale.objects.bulk_create([new_sale(shift, cashier)])[0]

    def several(sale) -> dict:
        made = {SaleLine: [], Payment: [], StockMovement: []}
        for i, text in enumerate(AWKWARD_TEXTS):
            line, payment, movement = children(sale, product, cashier, shift)
            line.product_name, line.unit_quantity = text, (None if i % 2 else Decimal(i))
            line.unit_cost = Decimal("1234567.894") if i % 3 else Decimal(i)
            payment.reference, payment.sale = text, (sale if i % 2 else None)
            payment.created_at = MOMENT.replace(microsecond=i)
            movement.reason, movement.created_by = text, (cashier if i % 2 else None)
            movement.quantity, movement.unit_cost = Decimal(-i) / 1000, (None if i % 3 else i)
            for model, obj in ((SaleLine, line), (Payment, payment), (StockMovement, movement)):
                made[model].append(obj)
        return made

    mine, orms = several(ours_sale), several(theirs_sale)
    for model in mine:
        rows.insert(mine[model])
        model.objects.bulk_create(orms[model])
        for ours_obj, theirs_obj in zip(mine[model], orms[model], strict=True):
            written, expected = stored(model, ours_obj.pk), stored(model, theirs_obj.pk)
            for parent in ("sale_id", "reference_id", "reference_label"):
                if written.get(parent) not in (None, ""):
                    written.pop(parent), expected.pop(parent)
            assert written == expected, model
        assert [o.pk for o in mine[model]] == sorted(o.pk for o in mine[model])


def test_the_statement_does_not_depend_on_the_number_of_rows(shift, cashier, product):
    """On PostgreSQL, several rows go in one array per column: the statement's text and its
    number of parameters are the same for 2 rows as for 7, so psycopg parses it once (it
    parses a statement of more than 50 parameters again on every execution)."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no arrays: its INSERT lists the rows")
    sale = rows.insert([new_sale(shift, cashier)])[0]
    sent = []

    def record(execute, sql, params, many, context):
        sent.append((sql, len(params)))
        return execute(sql, params, many, context)

    for count in (2, 7):
        with connection.execute_wrapper(record):
            rows.insert([children(sale, product, cashier, shift)[0] for _ in range(count)])
    fields = len(rows._plan(connections["default"], SaleLine, None).fields)
    assert sent[0] == sent[1]
    assert sent[0][1] == fields
    assert SaleLine.objects.filter(sale=sale).count() == 9


def test_a_text_too_long_for_its_column_is_refused_not_cut(shift, cashier, product):
    """The arrays are of the columns' types without their lengths: the column still refuses
    a longer text, as it does one in VALUES."""
    from django.db import DataError, transaction

    if connection.vendor != "postgresql":
        pytest.skip("SQLite does not check a text's length")
    sale = rows.insert([new_sale(shift, cashier)])[0]
    lines = [children(sale, product, cashier, shift)[0] for _ in range(2)]
    lines[1].sku = "x" * (SaleLine._meta.get_field("sku").max_length + 1)
    with pytest.raises(DataError), transaction.atomic():
        rows.insert(lines)
    assert not SaleLine.objects.filter(sale=sale).exists()


@pytest.mark.parametrize(
    ("db_type", "column"),
    [
        ("text", [*AWKWARD_TEXTS, None, "a\nb\tc", "   ", "}", "\\\\"]),
        (
            "numeric",
            [Decimal("-0.001"), Decimal("1E+3"), Decimal("12345678901.99"), None, Decimal(0)],
        ),
        ("bigint", [2**62, -1, None, 0]),
        ("integer", [Int4(7), None, Int4(-2)]),  # how Django's fields give ints on psycopg 3
        ("boolean", [True, False, None]),
        ("date", [MOMENT.date(), None]),
        (
            "timestamptz",
            [
                MOMENT,
                MOMENT.replace(microsecond=0),
                MOMENT.astimezone(timezone.get_fixed_timezone(120)),
            ],
        ),
        ("uuid", [uuid.UUID(int=0), uuid.uuid4(), None]),
    ],
)
def test_a_columns_array_text_reads_back_as_psycopgs_list(db_type, column):
    """rows.array writes a column's values as PostgreSQL's array text; PostgreSQL reads
    them back as the values psycopg's own list would give."""
    if connection.vendor != "postgresql":
        pytest.skip("arrays are PostgreSQL's")
    written = rows.array(tuple(column))
    assert isinstance(written, str)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT (%s)::{db_type}[], (%s)::{db_type}[]", [written, list(column)])
        ours, psycopgs = cursor.fetchone()
    assert ours == psycopgs
    assert [v is None for v in ours] == [v is None for v in column]


def test_a_column_of_other_values_is_left_to_psycopg():
    nan = Decimal("NaN")
    assert rows.array((nan, Decimal(1))) == [nan, Decimal(1)]
    assert rows.array((b"bytes", None)) == [b"bytes", None]


def test_writes_along_with_the_rows_go_in_their_statement_on_postgresql(shift, cashier):
    """`along`: on PostgreSQL the other writes are WITH queries of the INSERT (one statement),
    elsewhere each before it; with no rows to write they are still written."""
    table = connection.ops.quote_name(Shift._meta.db_table)
    note = [(f"UPDATE {table} SET closing_note = %s WHERE id = %s", ["along", shift.pk])]  # noqa: S608
    with CaptureQueriesContext(connection) as captured:
        sales = rows.insert([new_sale(shift, cashier), new_sale(shift, cashier)], along=note)
    assert len(captured.captured_queries) == (1 if connection.vendor == "postgresql" else 2)
    assert Shift.objects.get(pk=shift.pk).closing_note == "along"
    assert Sale.objects.filter(pk__in=[s.pk for s in sales]).count() == 2

    note[0][1][0] = "no rows"
    assert rows.insert([], along=note) == []
    assert Shift.objects.get(pk=shift.pk).closing_note == "no rows"


def instance_state(obj) -> tuple:
    """Everything an instance holds: its attributes (in order), its _state's, and the identity
    of each related instance it keeps."""
    attributes = {k: v for k, v in obj.__dict__.items() if k != "_state"}
    state = dict(obj._state.__dict__)
    cache = state.pop("fields_cache", {})
    return (
        list(attributes.items()),
        [(k, type(v)) for k, v in attributes.items()],
        state,
        {name: id(value) for name, value in cache.items()},
    )


def built_both_ways(model, values: dict) -> tuple:
    """`rows.new` and `model(**values)`, each from its own copy of the unsaved related
    instances (the relation sets their _state.db), as their states."""
    mine = rows.new(model, **values)
    django = model(**values)
    return instance_state(mine), instance_state(django), mine, django


def test_new_builds_the_instance_model_kwargs_builds(shift, cashier, product):
    """Each model checkout builds with rows.new, from the arguments checkout gives it (related
    instances, ids, None, fields left to their defaults): the same attributes, defaults,
    cached relations and _state as Model(**kwargs)."""
    sale_values = {
        "number": "T-000001",
        "register_id": shift.register_id,
        "shift": shift,
        "cashier": cashier,
        "customer": None,
        "idempotency_key": uuid.uuid4(),
        "request_fingerprint": "f" * 64,
        "subtotal": Decimal("11800.00"),
        "discount_total": Decimal(0),
        "tax_total": Decimal("1800"),
        "total": Decimal("11800.00"),
        "change_given": Decimal(0),
        "cash_rounding": Decimal(0),
        "created_at": MOMENT,
        "business_day": MOMENT.date(),
        "buyer_tin": "",
        "purchase_code": "",
    }
    mine, django, sale, _ = built_both_ways(Sale, sale_values)
    assert mine == django
    assert sale._state.db == "default" and sale._state.adding
    line, payment, movement = children(sale, product, cashier, shift)
    given = {
        SaleLine: {f: getattr(line, f) for f in ("product_name", "sku", "quantity", "total")},
        # (created_at given: its default is the time it is built)
        Payment: {"tender": "cash", "amount": Decimal("-12.5"), "created_at": MOMENT},
        StockMovement: {
            "store_id": 1,
            "product": product,
            "kind": "sale",
            "quantity": Decimal("-1"),
            "created_by": None,
        },
    }
    given[SaleLine].update(sale=sale, product=product, unit_quantity=None, oversold=False)
    for model, values in given.items():
        mine, django, *_ = built_both_ways(model, values)
        assert mine == django, model
    # An unsaved related instance without a database takes the new instance's.
    unsaved = [Sale(number="X"), Sale(number="X")]
    mine_line = rows.new(SaleLine, sale=unsaved[0], product=product)
    django_line = SaleLine(sale=unsaved[1], product=product)
    assert instance_state(mine_line)[:3] == instance_state(django_line)[:3]
    assert unsaved[0]._state.db == unsaved[1]._state.db == "default"


def test_new_leaves_to_model_init_what_it_does_not_cover(product):
    """Receivers of pre_init/post_init hear it; a name that is not a field, a related instance
    of the wrong model and a property get Django's own answer."""
    from django.db.models.signals import post_init

    heard = []

    def listen(sender, instance, **kwargs):
        heard.append(type(instance))

    post_init.connect(listen, sender=Payment, dispatch_uid="test-rows-new")
    try:
        rows.new(Payment, tender="cash", amount=Decimal(1))
    finally:
        post_init.disconnect(sender=Payment, dispatch_uid="test-rows-new")
    assert heard == [Payment]
    with pytest.raises(TypeError, match="unexpected keyword arguments: 'colour'"):
        rows.new(Payment, tender="cash", colour="red")
    with pytest.raises(ValueError, match='"Payment.sale" must be a "Sale" instance'):
        rows.new(Payment, sale=product)
    assert rows.new(Payment, pk=7).id == 7  # pk is a property: Model.__init__ sets it
