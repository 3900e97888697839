"""Issue 20, points 2, 3, 8, 9 and issue 19 item 9: what a touch screen offers (+/- buttons,
category tiles, counted matches with "more"), guards that keep every line and total at zero or
more, quick cash from the amount due, and one URL per payment action."""

from decimal import Decimal

import pytest
from django.urls import reverse

from pos import errors
from pos.models import Sale
from pos.register import views
from pos.register.cart import SessionCart
from pos.services.checkout import CartLine

pytestmark = pytest.mark.django_db
PARTIAL = {"HTTP_X_REGISTER_PARTIAL": "1"}


# --- Point 2: no negative line or total -------------------------------------------------------


def test_a_line_discount_bigger_than_the_price_is_refused_and_the_line_kept(till, scan, product):
    scan(product.barcode)  # 12,000
    response = till.post(
        reverse("register:update_line", args=[0]),
        {"quantity": "1", "discount": "1004000"},
        **PARTIAL,
    )
    assert response.status_code == 400
    assert "is more than its price" in response.context["line_errors"][0]
    assert response.context["priced"].total == Decimal("12000")
    assert "-" not in response.context["priced"].total.to_eng_string()


def test_fewer_items_under_a_line_discount_is_refused(till, scan, make_product):
    cheap = make_product(stock=5, retail_price=Decimal("3000"), minimum_price=Decimal(0))
    scan(cheap.barcode)
    scan(cheap.barcode)
    till.post(reverse("register:update_line", args=[0]), {"quantity": "2", "discount": "5000"})
    response = till.post(reverse("register:less_of_line", args=[0]), **PARTIAL)
    assert response.status_code == 400
    assert response.context["lines"][0].quantity == 2
    assert response.context["priced"].total == Decimal("1000")


def test_an_order_discount_over_the_sale_is_refused(till, scan, product):
    scan(product.barcode)
    response = till.post(reverse("register:order_discount"), {"order_discount": "12001"})
    assert response.status_code == 400
    assert till.get("/register/").context["priced"].total == Decimal("12000")


def test_checkout_refuses_a_line_that_costs_less_than_nothing(sell, make_product):
    free_floor = make_product(stock=5, minimum_price=Decimal(0))
    with pytest.raises(errors.InvalidPrice) as refused:
        sell(CartLine(free_floor.pk, 1, discount=Decimal(1_004_000)))
    assert "lines.0.discount" in refused.value.fields
    with pytest.raises(errors.InvalidPrice):
        sell((free_floor, 1), order_discount=Decimal(12_001))
    assert not Sale.objects.exists()


# --- Point 3: the minimum price (the approval itself: test_payment.py) ------------------------


def test_a_manager_selling_under_the_minimum_needs_no_second_person(
    sell, product, manager, django_capture_on_commit_callbacks
):
    from accounts.models import AuditLog
    from pos.models import Register
    from pos.services.shifts import close_shift, open_shift

    second = Register.objects.create(code="R2", name="Till 2")
    own = open_shift(register=second, cashier=manager, opening_float=Decimal(0))
    with django_capture_on_commit_callbacks(execute=True):
        sale = sell(CartLine(product.pk, 1, unit_price=Decimal(9000)), shift=own, cashier=manager)
    assert sale.total == Decimal(9000)
    assert AuditLog.objects.get(action="sale.below_minimum_approved").actor == manager
    close_shift(shift=own, counted={"cash": Decimal(9000)}, user=manager)


# --- Point 8: quick cash ----------------------------------------------------------------------


def test_quick_cash_amounts_are_the_round_notes_above_the_amount_due():
    amounts = views.quick_cash_amounts(Decimal(91_000))
    assert amounts == [Decimal(92_000), Decimal(95_000), Decimal(100_000)]
    assert views.quick_cash_amounts(Decimal(12_000)) == [13_000, 14_000, 15_000, 20_000]


def test_the_payment_page_offers_quick_cash_from_the_amount_due(till, scan, pay_page, make_product):
    scan(make_product(stock=2, retail_price=Decimal(91_000), minimum_price=Decimal(0)).barcode)
    response, _ = pay_page()
    page = response.content.decode()
    assert response.context["quick_cash"][:3] == [92_000, 95_000, 100_000]
    assert "+100,000" in page and "+1,000<" not in page


def test_quick_cash_adds_each_note_instead_of_replacing(till, scan, pay_page, product):
    scan(product.barcode)  # 12,000
    response, key = pay_page()
    form = {"idempotency_key": key, "cash": "12000", "cash_prefill": "12000"}
    quick = reverse("register:quick_cash")
    # Over the amount the page filled in, the first note starts from nothing...
    response = till.post(quick, {**form, "quick_cash": "10000"})
    assert response.context["form"]["cash"].value() == "10000"
    assert response.context["form"]["cash_prefill"].value() == ""
    # ...then each note adds.
    response = till.post(quick, {**form, "cash": "10000", "cash_prefill": "", "quick_cash": "5000"})
    assert response.context["form"]["cash"].value() == "15000"
    assert response.context["change_due"] == Decimal(3000)


# --- Point 9: touch selling -------------------------------------------------------------------


def test_plus_and_minus_buttons_change_the_quantity(till, scan, product):
    scan(product.barcode)
    page = till.get("/register/").content.decode()
    assert reverse("register:more_of_line", args=[0]) in page
    till.post(reverse("register:more_of_line", args=[0]))
    till.post(reverse("register:more_of_line", args=[0]))
    response = till.post(reverse("register:less_of_line", args=[0]), **PARTIAL)
    assert response.context["lines"][0].quantity == 2
    till.post(reverse("register:less_of_line", args=[0]))
    response = till.post(reverse("register:less_of_line", args=[0]), **PARTIAL)
    assert response.context["lines"][0].quantity == 1  # never under one


def test_plus_is_checked_against_the_stock(till, scan, make_product):
    last = make_product(stock=1)
    scan(last.barcode)
    response = till.post(reverse("register:more_of_line", args=[0]), **PARTIAL)
    assert response.status_code == 409
    assert response.context["lines"][0].quantity == 1


def test_a_category_shows_tiles_that_add_goods_without_a_barcode(till, make_product, category):
    loose = make_product(stock=3, name="Screen protector (loose)", barcode=None)
    response = till.get("/register/", {"category": category.pk})
    assert [c.name for c in response.context["categories"]] == ["Chargers"]
    assert loose in response.context["tiles"]
    response = till.post(
        reverse("register:add_product", args=[loose.pk]), {"category": category.pk}
    )
    assert response["Location"] == f"/register/?category={category.pk}"
    assert till.get("/register/").context["lines"][0].product == loose


def test_tiles_show_more_on_demand(till, make_product, category):
    for _ in range(views.TILES_SHOWN + 1):
        make_product(stock=1)
    response = till.get("/register/", {"category": category.pk})
    assert len(response.context["tiles"]) == views.TILES_SHOWN
    response = till.get("/register/", {"category": category.pk, "tiles": 48})
    assert len(response.context["tiles"]) == views.TILES_SHOWN + 1
    assert not response.context["more_tiles"]


def test_name_matches_say_how_many_there_are_and_show_more_on_demand(till, make_product):
    for i in range(11):
        make_product(stock=1, name=f"Anker cable {i:02d}")
    response = till.get("/register/search/", {"code": "anker"}, **PARTIAL)
    assert len(response.context["matches"]) == 8
    assert "8 of 11 matching products" in response.content.decode()
    more = response.context["more_shown"]
    response = till.get("/register/search/", {"code": "anker", "shown": more}, **PARTIAL)
    assert len(response.context["matches"]) == 11
    assert "11 matching products" in response.content.decode()
    assert not response.context["more_shown"]


def test_show_more_without_javascript_shows_the_whole_register(till, make_product):
    for i in range(9):
        make_product(stock=1, name=f"Anker cable {i:02d}")
    response = till.get("/register/search/", {"code": "anker", "shown": 16})
    assert "register-body" in response.content.decode()
    assert len(response.context["matches"]) == 9


# --- Issue 19, item 9: one URL per payment action; replays answered by the service ------------


def test_each_payment_action_has_its_own_url_and_the_page_is_get_only(
    till, scan, pay_page, product, momo_simulator
):
    scan(product.barcode)
    response, key = pay_page()
    page = response.content.decode()
    for name in ("quick_cash", "momo_request", "complete"):
        assert reverse(f"register:{name}") in page
    assert till.post(reverse("register:payment"), {"idempotency_key": key}).status_code == 405


def test_a_replay_after_the_sale_is_answered_by_the_service_with_its_receipt(
    till, scan, pay_page, product, monkeypatch
):
    from pos.services import checkout as checkout_module

    calls = []
    real = checkout_module.checkout

    def counting(**kwargs):
        sale = real(**kwargs)
        calls.append(sale.replayed)
        return sale

    monkeypatch.setattr(views, "checkout", counting)
    scan(product.barcode)
    _, key = pay_page()
    first = till.post(reverse("register:complete"), {"idempotency_key": key, "cash": "12000"})
    again = till.post(reverse("register:complete"), {"idempotency_key": key, "cash": "12000"})
    assert first["Location"] == again["Location"]
    assert calls == [False, True]  # the second answer came from the service's replay
    assert Sale.objects.count() == 1
    # A replay with another body is the service's conflict: no second sale, back to the till.
    other = till.post(reverse("register:complete"), {"idempotency_key": key, "cash": "13000"})
    assert other["Location"] == reverse("register:register")
    assert Sale.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "extra"),
    [("quick_cash", {"quick_cash": "5000"}), ("complete", {"cash": "1000"})],
)
def test_a_payment_request_prices_the_cart_once(
    till, scan, pay_page, product, monkeypatch, name, extra
):
    scan(product.barcode)
    _, key = pay_page()
    priced = []
    real = SessionCart.priced

    def counting(self):
        priced.append(1)
        return real(self)

    monkeypatch.setattr(SessionCart, "priced", counting)
    till.post(reverse(f"register:{name}"), {"idempotency_key": key, **extra})
    assert len(priced) == 1
