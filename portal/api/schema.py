"""The error answers of every operation, in the OpenAPI schema (drf-spectacular documents only successes).

CONTRACT.md: errors are 400 with field errors, 401/403 for auth, 404 for what the caller may not see (and, as
DRF answers it, 415 for a body in a media type no parser reads).
A postprocessing hook adds those to each operation that can give them, unless a view declared its own.
"""

from typing import Any

FIELD_ERRORS = {
    "type": "object",
    "description": "Each bad field (or `non_field_errors`, or `detail`) with what is wrong with it.",
    "additionalProperties": {"anyOf": [{"type": "string"}, {"type": "array"}, {"type": "object"}]},
}
DETAIL = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
ERRORS = {
    "400": ("Bad input: the fields named and why.", "FieldErrors"),
    "401": ("Not authenticated: no or a bad token or session.", "ErrorDetail"),
    "403": ("The caller may not do this.", "ErrorDetail"),
    "404": ("No such object, or one the caller may not see; or no such page.", "ErrorDetail"),
    "415": ("The body is in a media type the API does not read (it reads JSON, form and multipart).",
            "ErrorDetail"),
}
METHODS = {"get", "post", "put", "patch", "delete"}


def error_responses(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("FieldErrors", FIELD_ERRORS)
    schemas.setdefault("ErrorDetail", DETAIL)
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method in METHODS:
                responses = operation["responses"]
                for code in _error_codes(method, operation):
                    responses.setdefault(code, {"description": ERRORS[code][0]})
                for code, response in responses.items():
                    if code in ERRORS and not response.get("content"):  # declared by a view, without a body
                        ref = f"#/components/schemas/{ERRORS[code][1]}"
                        response["content"] = {"application/json": {"schema": {"$ref": ref}}}
    return result


def _error_codes(method: str, operation: dict[str, Any]) -> list[str]:
    places = {p.get("in") for p in operation.get("parameters", [])}
    names = {p.get("name") for p in operation.get("parameters", [])}
    codes = []
    if "requestBody" in operation or "query" in places or method != "get":  # a write may not fit the state
        codes.append("400")
    if any(requirement for requirement in operation.get("security", [{}])):
        codes += ["401", "403"]
    if "path" in places or "page" in names:
        codes.append("404")
    if "requestBody" in operation:
        codes.append("415")
    return codes
