"""Sixteen checkouts at once on one register leave one line of entries (PostgreSQL)."""

import pytest

from pos.journal.canonical import GENESIS, entry_hash
from pos.journal.verify import verify
from pos.models import ChainHead, JournalEntry, Sale
from tests.pos.test_selling_concurrency import race, sell_one

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_sixteen_concurrent_checkouts_leave_one_linear_chain_without_a_gap(
    shift, cashier, make_product
):
    product = make_product(stock=1000)

    results = race(16, lambda i: sell_one(shift, cashier, product))

    assert all(isinstance(r, Sale) for r in results), results
    chain = f"register:{shift.register_id}"
    rows = list(
        JournalEntry.objects.filter(chain=chain)
        .order_by("seq")
        .values_list("seq", "kind", "reference", "payload", "prev_hash", "hash")
    )
    assert [seq for seq, *_ in rows] == list(range(1, 18))
    previous = GENESIS
    for _seq, _kind, _ref, payload, prev_hash, digest in rows:
        assert prev_hash == previous
        assert digest == entry_hash(prev_hash, payload)  # PostgreSQL's sha256 = Python's
        previous = digest
    sales = {f"pos.sale:{s.pk}" for s in results}
    assert {ref for _seq, kind, ref, *_ in rows if kind == "sale"} == sales
    head = ChainHead.objects.get(chain=chain)
    assert (head.last_seq, head.last_hash) == (17, previous)
    assert verify().ok
