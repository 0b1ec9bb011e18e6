"""JSON request bodies, refusing with a 400 what no endpoint means: a body over DATA_UPLOAD_MAX_MEMORY_SIZE,
nesting deeper than portal.json_text.MAX_DEPTH, and a NUL character anywhere (naming where).

DRF's CharField refuses NUL already, but dicts and JSON fields (launch parameters and tags, constraint
definitions, policy details, signature patterns) take any string, and PostgreSQL's jsonb and text store none:
without this, such a value is a 500 at the save on PostgreSQL, or a row the embedded SQLite keeps that
PostgreSQL could not restore.
"""

import io
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError

from portal.json_text import MAX_DEPTH, too_deep_at


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        parser_context = parser_context or {}
        _check_size(parser_context.get("request"))
        raw = stream.read() if stream is not None else b""
        try:
            too_deep = too_deep_at(raw.decode(parser_context.get("encoding", settings.DEFAULT_CHARSET)))
        except UnicodeDecodeError:
            too_deep = None  # DRF's own parse says so
        if too_deep is not None:  # json and whatever walks the result recurse per level: a RecursionError
            raise ParseError(f"JSON parse error - the body nests deeper than {MAX_DEPTH} levels.")
        data = super().parse(io.BytesIO(raw), media_type, parser_context)
        where = _nul_at(data, [])
        if where is not None:
            raise ValidationError({".".join(where) or "non_field_errors":
                                   ["A NUL character (\\u0000) is not allowed in any value or key."]})
        return data


def _check_size(request) -> None:
    """DRF reads a JSON body from the stream, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE check: apply it here."""
    meta = getattr(request, "META", {})
    size = str(meta.get("CONTENT_LENGTH") or "0")
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is not None and size.isascii() and size.isdigit() and int(size) > limit:
        raise ParseError(f"The body is {int(size):,} bytes; the API takes at most {limit:,} bytes of JSON "
                         "(a CloudFormation template may be at most 1,000,000 bytes).")


def _nul_at(value: Any, path: list[str]) -> list[str] | None:
    """The path (keys and list indexes) of the first string or key holding a NUL, or None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return [*path, key.replace("\x00", "\\u0000")]
            found = _nul_at(item, [*path, key])
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_at(item, [*path, str(index)])
            if found is not None:
                return found
    return None
