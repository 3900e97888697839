"""The sales endpoints' OpenAPI schema does not change when their code does (issue 30: checkout
decodes and answers without DRF's field machinery; the serializers stay the schema's source).

The stored copy, tests/api/fixtures/sales_schema.json, is the schema of every `/api/v1/sales/`
path and of every component they reach, as main generated it before that work. A deliberate
change to the sales API regenerates it:

    .venv/bin/python -m tests.api.test_sales_schema
"""

import json
from pathlib import Path

import pytest

STORED = Path(__file__).parent / "fixtures" / "sales_schema.json"


def sales_schema() -> dict:
    """The `/api/v1/sales/` paths of the OpenAPI document, and the components they reach."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    schema = json.loads(json.dumps(schema, default=str))  # lazy strings, as the API serves them
    paths = {
        path: item for path, item in schema["paths"].items() if path.startswith("/api/v1/sales/")
    }
    components = schema["components"]["schemas"]
    reached: dict[str, dict] = {}

    def walk(node) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            name = ref.rpartition("/")[2]
            if ref.startswith("#/components/schemas/") and name not in reached:
                reached[name] = components[name]
                walk(components[name])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(paths)
    return {"paths": paths, "components": dict(sorted(reached.items()))}


@pytest.mark.django_db
def test_the_sales_endpoints_schema_is_the_stored_one():
    stored = json.loads(STORED.read_text())
    current = sales_schema()

    assert sorted(current["paths"]) == sorted(stored["paths"])
    assert "/api/v1/sales/" in current["paths"]
    assert "CheckoutRequest" in current["components"]
    for path, item in stored["paths"].items():
        assert current["paths"][path] == item, path
    assert current["components"] == stored["components"]


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    django.setup()
    STORED.write_text(json.dumps(sales_schema(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {STORED}")
