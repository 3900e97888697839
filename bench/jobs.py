"""The job the worker benchmark runs 10,000 times (bench/worker.py): a few reads, as the shop's
jobs do, and a small result."""

from django_tasks import task


@task()
def look_up(n: int) -> dict:
    from pos.models import Product, ShopSettings

    shop = ShopSettings.load()
    product = Product.objects.filter(pk=n % 1000 + 1).values_list("sku", flat=True).first()
    return {"n": n, "shop": shop.name, "sku": product}
