"""The import contracts of pyproject.toml ([tool.importlinter]) hold, and each one fails when a
violation is planted in a copy of the project (so the contract is known to bite)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "vevurn", "accounts", "pos", "monitoring", "jobs", "fiscal")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path, *contracts: str) -> subprocess.CompletedProcess:
    args = [str(LINT_IMPORTS), "--no-cache"]
    for contract in contracts:
        args += ["--contract", contract]
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_project_keeps_every_import_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("project")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            copy / package,
            ignore=shutil.ignore_patterns("__pycache__", "static", "templates", "locale"),
        )
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


@pytest.mark.parametrize(
    ("contract", "module", "planted"),
    [
        ("monitoring-knows-no-shop", "monitoring/metrics.py", "from pos.models import Product"),
        ("models-below-services", "pos/models/customers.py", "import pos.services.customers"),
        ("jobs-knows-no-shop", "jobs/schedule.py", "import monitoring.alerts"),
        ("core-at-the-bottom", "core/errors.py", "import vevurn.settings"),
        ("shop-knows-no-fiscal", "pos/services/checkout.py", "import fiscal.outbox"),
        ("monitoring-one-direction", "monitoring/metrics.py", "import monitoring.alerts"),
    ],
)
def test_a_planted_violation_breaks_its_contract(project_copy, contract, module, planted):
    path = project_copy / module
    original = path.read_text()
    path.write_text(f"{original}\n{planted}  # noqa\n")
    try:
        result = lint_imports(project_copy, contract)
    finally:
        path.write_text(original)
    assert result.returncode != 0, result.stdout
    assert "BROKEN" in result.stdout
    assert lint_imports(project_copy, contract).returncode == 0  # and kept once it is gone
