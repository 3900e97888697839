"""The benchmarks' bookkeeping: percentiles and the --compare verdict against the baseline."""

import datetime
import json
from collections import Counter

import psutil
import pytest

from bench import common
from bench.common import Figure


def test_percentile_is_the_nearest_rank():
    samples = list(range(1, 101))  # 1..100
    assert common.percentile(samples, 0.50) == 50
    assert common.percentile(samples, 0.95) == 95
    assert common.percentile(samples, 0.99) == 99
    assert common.percentile([7.0], 0.95) == 7.0


@pytest.fixture
def bench_files(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "RESULTS_DIR", tmp_path / "results")
    monkeypatch.setattr(common, "BASELINE", tmp_path / "baseline.json")
    monkeypatch.setattr(common, "machine", lambda: {"host": "test", "cpu": "test cpu"})
    return tmp_path


def test_compare_flags_figures_more_than_20_percent_worse(bench_files, capsys):
    common.save(
        "checkout",
        [
            Figure("checkout", "16 cashiers: sales/s", 100.0, "sales/s", "higher"),
            Figure("checkout", "16 cashiers: P95 ms", 40.0, "ms"),
            Figure("checkout", "16 cashiers: pgbench sales/s", 300.0, "sales/s", "info"),
        ],
        {},
    )
    common.save_baseline("checkout")
    assert json.loads(common.BASELINE.read_text())["checkout"]["machine"]["host"] == "test"

    worse = common.compare(
        "checkout",
        [
            Figure("checkout", "16 cashiers: sales/s", 79.0, "sales/s", "higher"),  # 21% fewer
            Figure("checkout", "16 cashiers: P95 ms", 47.0, "ms"),  # 17.5% slower: tolerated
            Figure("checkout", "16 cashiers: pgbench sales/s", 10.0, "sales/s", "info"),
        ],
    )
    assert worse == 1
    out = capsys.readouterr().out
    sales_row = next(line for line in out.splitlines() if line.startswith("16 cashiers: sales/s"))
    assert "0.79x" in sales_row and "WORSE" in sales_row
    p95_row = next(line for line in out.splitlines() if line.startswith("16 cashiers: P95"))
    assert "1.18x" in p95_row and "WORSE" not in p95_row


def test_compare_without_a_baseline_says_so(bench_files, capsys):
    assert common.compare("memory", [Figure("memory", "RSS MB", 90.0, "MB")]) == 0
    assert "No baseline for memory" in capsys.readouterr().out


def test_gthread_connections_start_spread_over_both_workers(tmp_path):
    """`bench stack` measures the stack, not which gunicorn worker won the race to accept: a
    gthread worker keeps its connections, and 8 opened together often all went to one worker."""
    from bench import stack

    port = stack.spare_port()
    server = stack.start_bare(port, tmp_path / "bare.log", threads=4)
    try:
        stack.wait_answering(port, stack.PING, server)
        for _ in range(3):
            connections = stack.spread_connections(port, stack.PING, 8, server.pid)
            workers = [psutil.Process(pid) for pid in stack.worker_pids(server.pid)]
            owners = Counter(stack._owner(workers, sock.getsockname()[1]) for sock in connections)
            for sock in connections:
                sock.close()
            assert len(connections) == 8
            assert sorted(owners.values()) == [4, 4]
            assert set(owners) == set(stack.worker_pids(server.pid))
    finally:
        stack.stop(server)


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_reports_bench_seeds_todays_schema(monkeypatch, capsys):
    """`bench reports` writes its shop with raw INSERTs: a column added since without a database
    default broke it unseen (NOT NULL). Seeded small here, the sales summary and low stock read
    back what it wrote."""
    from django.db import connection
    from django.utils import timezone

    from bench import reports
    from pos.models import Payment, Product, Refund, Sale, SaleLine, StockLevel, StockMovement

    small = {"DAYS": 3, "PRODUCTS": 9, "NEVER_SOLD": 2, "CUSTOMERS": 4, "SALES": 300}
    for name, value in small.items():
        monkeypatch.setattr(reports, name, value)
    today = timezone.localdate()
    with connection.cursor() as cursor:
        reports.seed(cursor, today - datetime.timedelta(days=2))

    assert Sale.objects.count() == 300 and Sale.objects.filter(status="voided").count() == 3
    assert SaleLine.objects.count() == 900 == StockMovement.objects.filter(kind="sale").count()
    assert Payment.objects.filter(tender="mobile_money", provider="mtn").count() == 100
    assert Refund.objects.count() == 2
    summary = reports.queries.sales_summary(today - datetime.timedelta(days=2), today)
    assert (summary.count, summary.void_count, summary.refund_count) == (297, 3, 2)
    # 9 products with (p * 7) % 60 in stock and 2 new ones with 10, reorder level 5: only
    # product 9 (3 left) is low, in the till's store.
    products = Product.objects.filter(sku__startswith="BENCH-")
    assert StockLevel.objects.filter(product__in=products).count() == 11
    _totals, low = reports.queries.inventory(low_stock_only=True)
    assert list(low.values_list("sku", flat=True)) == ["BENCH-9"]
    assert "seed step 20/20" in capsys.readouterr().out
