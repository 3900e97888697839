"""The house rules that an import graph cannot see, checked on the source (ast) and on the admin.

1. The shop's row locks are taken by its services only: `select_for_update` appears nowhere in
   pos, monitoring, core, vevurn or fiscal outside pos/services/ (where pos/services/locks.py
   holds the helpers and the lock order). accounts and jobs lock their own rows in their own
   modules; fiscal takes none (its counters move by single UPDATE statements).
2. Product, Customer, Register and Invoice rows hold counters (stock, balances, receipt numbers,
   amounts paid) that only their services write. Outside pos/services/:
   - a module that imports one of those models calls no `.save()` without `update_fields`
     (a full-row save puts back whatever a sale wrote since the row was read);
   - the admin of each of those models saves through a service (its own `save_model`) or is
     read-only: Django's default `save_model` is a full-row save.
"""

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "vevurn", "accounts", "pos", "monitoring", "jobs", "fiscal")
# fiscal takes no row lock at all: its counters move by single UPDATE statements.
LOCK_SCOPE = ("core", "vevurn", "pos", "monitoring", "fiscal")
SERVICES = Path("pos/services")
COUNTER_MODELS = {"Product", "Customer", "Register", "Invoice"}


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    rule: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}"


def source_files(root: Path = ROOT) -> Iterable[Path]:
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")) if (root / package).is_dir() else []:
            if "migrations" not in path.parts:
                yield path


def _in_services(relative: Path) -> bool:
    return relative.parts[: len(SERVICES.parts)] == SERVICES.parts


def _imported_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def _receiver_is_self(call: ast.Call) -> bool:
    receiver = call.func.value
    if isinstance(receiver, ast.Name) and receiver.id == "self":
        return True
    return (
        isinstance(receiver, ast.Call)
        and isinstance(receiver.func, ast.Name)
        and receiver.func.id == "super"
    )


def check_source(path: Path, root: Path = ROOT) -> list[Violation]:
    relative = path.relative_to(root)
    if _in_services(relative):
        return []
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        locking = isinstance(node, ast.Attribute) and node.attr == "select_for_update"
        if locking and relative.parts[0] in LOCK_SCOPE:
            found.append(
                Violation(
                    str(relative),
                    node.lineno,
                    "select_for_update outside pos/services/ (lock through pos.services.locks)",
                )
            )
    counters = COUNTER_MODELS & _imported_names(tree)
    if counters:
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "save"
                and not any(keyword.arg == "update_fields" for keyword in node.keywords)
                and not _receiver_is_self(node)
            ):
                found.append(
                    Violation(
                        str(relative),
                        node.lineno,
                        f"full-row .save() in a module that imports {', '.join(sorted(counters))}"
                        " (change the row through its service)",
                    )
                )
    return found


def check_admin(site) -> list[Violation]:
    """Admins of the counter models that would save a whole row with Django's default."""
    from django.contrib import admin

    found = []
    for model, model_admin in site._registry.items():
        if model.__name__ not in COUNTER_MODELS:
            continue
        default_save = type(model_admin).save_model is admin.ModelAdmin.save_model
        if default_save and model_admin.has_change_permission(_superuser_request()):
            found.append(
                Violation(
                    type(model_admin).__module__,
                    0,
                    f"the admin of {model.__name__} saves whole rows (Django's save_model)",
                )
            )
    return found


def _superuser_request():
    from types import SimpleNamespace

    class Superuser:
        is_active = is_staff = is_superuser = is_authenticated = True

        def has_perm(self, perm, obj=None):
            return True

    return SimpleNamespace(user=Superuser())
