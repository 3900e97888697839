import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connection

from core.errors import NotFound
from pos import errors
from pos.models import HeldSale, Register, Sale, StockMovement
from pos.services.checkout import Cart, CartLine, TenderLine, checkout
from pos.services.holds import discard_held_sale, hold_sale, list_held, resume_held_sale

pytestmark = pytest.mark.django_db
D = Decimal


def a_cart(product, customer=None):
    return Cart(
        [CartLine(product.pk, 2, unit_price=D("11900"), discount=D("100"))],
        order_discount=D("100"),
        customer_id=customer.pk if customer else None,
    )


def test_holding_a_cart_moves_no_stock_and_resumes_the_same_cart(register, shift, cashier, product):
    movements = StockMovement.objects.count()
    held = hold_sale(register=register, cashier=cashier, cart=a_cart(product), note="Blue bag")

    product.refresh_from_db()
    assert product.stock_on_hand == 10
    assert StockMovement.objects.count() == movements
    assert held.cart["lines"][0]["unit_price"] == "11900"  # Decimals stored as strings
    assert list(list_held(register)) == [held]
    assert str(held) == "Blue bag"

    cart = resume_held_sale(held=held, register=register, user=cashier)
    assert cart == a_cart(product)
    assert not HeldSale.objects.exists()
    sale = checkout(
        shift=shift,
        cashier=cashier,
        cart=cart,
        tenders=[TenderLine("cash", D(30000))],
        idempotency_key=uuid.uuid4(),
    )
    assert sale.total == D(23600)  # 2 × 11900 − 100 − 100 (prices re-checked at checkout)


def test_a_held_sale_keeps_its_customer(register, cashier, product):
    from pos.services.customers import create_customer

    customer = create_customer(name="Aline", phone="0788123456")
    held = hold_sale(register=register, cashier=cashier, cart=a_cart(product, customer))
    assert held.customer == customer
    assert resume_held_sale(held=held, register=register, user=cashier).customer_id == customer.pk


def test_resume_on_another_register_is_refused_and_keeps_it(register, cashier, product):
    other = Register.objects.create(name="Till 2", code="R2")
    held = hold_sale(register=register, cashier=cashier, cart=a_cart(product))

    with pytest.raises(errors.HeldSaleOtherRegister, match="another register") as caught:
        resume_held_sale(held=held, register=other, user=cashier)
    assert "register" in caught.value.fields
    assert HeldSale.objects.filter(pk=held.pk).exists()
    assert list(list_held(other)) == []


def test_a_held_sale_resumes_once(register, cashier, product):
    held = hold_sale(register=register, cashier=cashier, cart=a_cart(product))
    resume_held_sale(held=held, register=register, user=cashier)
    with pytest.raises(NotFound, match="already resumed"):
        resume_held_sale(held=held, register=register, user=cashier)


def test_discard(register, cashier, product):
    held = hold_sale(register=register, cashier=cashier, cart=a_cart(product))
    discard_held_sale(held=held, user=cashier)
    assert not HeldSale.objects.exists()
    with pytest.raises(NotFound):
        discard_held_sale(held=held, user=cashier)
    with pytest.raises(NotFound):
        resume_held_sale(held=held, register=register, user=cashier)


def test_bad_carts_are_refused_and_nothing_is_held(register, cashier, product, make_user):
    with pytest.raises(errors.EmptyCart):
        hold_sale(register=register, cashier=cashier, cart=Cart([]))
    with pytest.raises(errors.InvalidQuantity) as caught:
        hold_sale(register=register, cashier=cashier, cart=Cart([CartLine(product.pk, 0)]))
    assert "lines.0.quantity" in caught.value.fields
    with pytest.raises(errors.InvalidQuantity):
        hold_sale(register=register, cashier=cashier, cart=Cart([CartLine(product.pk, 1.5)]))
    with pytest.raises(NotFound) as caught:
        hold_sale(register=register, cashier=cashier, cart=Cart([CartLine(999999, 1)]))
    assert "lines.0.product_id" in caught.value.fields
    with pytest.raises(NotFound) as caught:
        hold_sale(register=register, cashier=cashier, cart=Cart([CartLine(product.pk, 1)], 0, 999))
    assert "customer" in caught.value.fields
    from accounts.models import User

    nobody = User.objects.create_user(username="visitor", password="x")
    with pytest.raises(errors.NotAllowed):
        hold_sale(register=register, cashier=nobody, cart=a_cart(product))
    assert not HeldSale.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_tills_resuming_the_same_held_sale_get_it_once(register, cashier, product):
    held = hold_sale(register=register, cashier=cashier, cart=a_cart(product))
    carts, missed, failures = [], [], []
    barrier = threading.Barrier(6)

    def till():
        try:
            barrier.wait()
            carts.append(resume_held_sale(held=held, register=register, user=cashier))
        except NotFound:
            missed.append(1)
        except Exception as exc:  # noqa: BLE001 - surfaced in the main thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=till) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert (len(carts), len(missed)) == (1, 5)
    assert not Sale.objects.exists()
