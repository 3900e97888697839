"""The error statuses every API operation may answer, added to the OpenAPI schema in one place.

A drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]): what the
views declare stays; to every operation under /api/v1/ it adds what the API answers whatever the
view (README, "REST API", errors):
- 401 not signed in, 403 not allowed, 429 rate limited (the API's limit per user, and the
  checkout's), 503 database unreachable: every operation;
- 404 when the path names an object (`{id}`) or the view declares it;
- 400 (validation, with field messages) for every write and every operation with query
  parameters (filters and periods are checked);
- 409 and 422 where a view declares them (pos.api.views.ERRORS: the state changed, a business
  rule refuses).
Each error response carries the one error shape (monitoring/api_errors.py), `Error`.
"""

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "Stable, for programs"},
                "message": {"type": "string", "description": "For the person at the till"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    "description": "Messages per input field (lines.0.quantity)",
                },
                "details": {"type": "object", "additionalProperties": True},
                "request_id": {"type": "string"},
            },
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}

RETRY_AFTER = {
    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying"}
}

EVERY_OPERATION = {
    "401": "Not signed in, unknown or revoked token",
    "403": "Signed in without the permission",
    "429": "Rate limited: the API's limit per user (the checkout has its own)",
    "503": "The database is unreachable; nothing was half-written, retry",
}
DESCRIPTIONS = {
    "400": "Validation error: `fields` names each bad field",
    "404": "No such object (or not yours, for a cashier's shifts and sales)",
    "409": "Conflicts with the current state",
    "422": "A business rule refuses",
}
WRITES = {"post", "put", "patch"}


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            _add(path, method, operation)
    return result


def _add(path: str, method: str, operation: dict) -> None:
    responses = operation.setdefault("responses", {})
    wanted = dict(EVERY_OPERATION)
    if "{" in path:
        wanted["404"] = DESCRIPTIONS["404"]
    has_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
    if method in WRITES or has_query:
        wanted["400"] = DESCRIPTIONS["400"]
    for status, description in wanted.items():
        responses.setdefault(status, {"description": description})
    for status, response in responses.items():
        if status[0] in "45":
            response.setdefault(
                "content", {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
            )
            if status in ("429", "503"):
                response.setdefault("headers", RETRY_AFTER)
