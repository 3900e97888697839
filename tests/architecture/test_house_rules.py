"""The house rules of tests/architecture/house_rules.py hold, and each check catches a planted
violation."""

from pathlib import Path

import pytest
from django.contrib import admin

from pos.models import Customer, Register
from tests.architecture import house_rules


def test_no_lock_and_no_full_row_save_of_a_counter_model_outside_the_services():
    found = [v for path in house_rules.source_files() for v in house_rules.check_source(path)]
    assert found == [], "\n".join(map(str, found))


def test_every_admin_of_a_counter_model_saves_through_its_service():
    assert house_rules.check_admin(admin.site) == []


def _plant(tmp_path: Path, relative: str, source: str) -> Path:
    path = tmp_path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    return path


@pytest.mark.parametrize(
    ("relative", "source", "rule"),
    [
        (
            "pos/views.py",
            "from pos.models import Sale\n\n"
            "def view(pk):\n    return Sale.objects.select_for_update().get(pk=pk)\n",
            "select_for_update outside pos/services/",
        ),
        (
            "pos/api/views.py",
            "from pos.models import Customer\n\n"
            "def perform_update(customer, notes):\n    customer.notes = notes\n"
            "    customer.save()\n",
            "full-row .save() in a module that imports Customer",
        ),
    ],
)
def test_a_planted_violation_is_caught(tmp_path, relative, source, rule):
    path = _plant(tmp_path, relative, source)

    (violation,) = house_rules.check_source(path, root=tmp_path)

    assert violation.path == relative and rule in violation.rule


@pytest.mark.parametrize(
    "source",
    [
        "from pos.models import Product\n\ndef f(p):\n    p.save(update_fields=['name'])\n",
        "from pos.models import Product\n\nclass Cart:\n    def add(self):\n        self.save()\n",
        "def f(form):\n    form.save()\n",  # imports no counter model
    ],
)
def test_what_the_rules_allow_is_not_reported(tmp_path, source):
    assert house_rules.check_source(_plant(tmp_path, "pos/x.py", source), root=tmp_path) == []


def test_the_same_code_inside_the_services_is_allowed(tmp_path):
    source = "from pos.models import Product\n\ndef f(pk):\n"
    source += "    Product.objects.select_for_update().get(pk=pk).save()\n"
    path = _plant(tmp_path, "pos/services/x.py", source)
    assert house_rules.check_source(path, root=tmp_path) == []


@pytest.mark.django_db
def test_an_admin_on_django_s_default_save_is_caught():
    site = admin.AdminSite(name="planted")
    site.register(Register)  # a plain ModelAdmin: save_model writes every column
    site.register(Customer, type(admin.site._registry[Customer]))  # saves through the service

    (violation,) = house_rules.check_admin(site)

    assert "Register" in violation.rule
