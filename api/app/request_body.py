"""Request bodies read strictly: JSON types as sent (no "0" for false, no number for a date), no key twice.

pydantic's lax mode, which FastAPI uses on the parsed body, takes `0` for a boolean and for a date
(1970-01-01) and `"5"` for a number; a JSON parser keeps the last of two equal keys, so a body can
say one thing to a reviewer and another to the ledger. Bodies are therefore validated here, in
pydantic's strict JSON mode, from the bytes received, after the route has admitted the caller;
FastAPI then receives the model already validated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

import pydantic_core
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError

from api.app.problems import Problem


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _refuse_duplicates(pairs: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _DuplicateKey(key)
        found[key] = value
    return found


# Characters no text of the ledger may hold: control characters other than tab and line breaks (NUL among
# them), DEL and the C1 controls, the bidirectional embeddings, overrides and isolates (which make a text
# read differently from what it holds: "Trojan Source"), and lone UTF-16 surrogates (no UTF-8 can hold them).
_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# Any of them can only come raw (DEL, C1, bidi) or as a JSON escape: the body is searched for either before
# the parsed values are walked, so a body without them costs one search.
_MAYBE_REFUSED = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]" + r"|\\[ubf]")


def well_formed(raw: bytes) -> Any:
    """The JSON document, if it is one (400 malformed_json), names no key twice in an object (400
    duplicate_key) and holds no refused character in any text (422 invalid_text)."""
    try:
        text = raw.decode()  # JSON is UTF-8 (RFC 8259), as pydantic reads it
        document = json.loads(text, object_pairs_hook=_refuse_duplicates)
    except _DuplicateKey as duplicate:
        raise Problem(
            400,
            "duplicate_key",
            f"the key {duplicate.key[:80]!r} appears twice in one JSON object: send each key once",
        ) from None
    except json.JSONDecodeError as error:
        raise Problem(
            400,
            "malformed_json",
            f"the request body is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}",
        ) from None
    except (UnicodeDecodeError, RecursionError):
        raise Problem(400, "malformed_json", "the request body is not valid UTF-8 JSON") from None
    if _MAYBE_REFUSED.search(text):
        refused = [_text_error(where, text) for where, text in _texts(document, ()) if _REFUSED.search(text)]
        if refused:
            raise RequestValidationError(refused, body=None)
    return document


def _texts(value: Any, where: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every text of a parsed document (keys too), with where it is."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield (*where, key), key
            yield from _texts(item, (*where, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _texts(item, (*where, index))


def _text_error(where: tuple[str | int, ...], text: str) -> dict[str, Any]:
    found = _REFUSED.search(text)
    assert found is not None
    return {
        "type": "invalid_text",
        "loc": ("body", *where),
        "msg": f"holds the character U+{ord(found.group()):04X} at {found.start()}: texts may not hold control"
        " characters (other than tab and line breaks), bidirectional overrides or lone surrogates",
        "input": None,
    }


class StrictBody:
    """The body of one route, read from the bytes received: well formed, then validated strictly."""

    def __init__(self, annotation: Any) -> None:
        self._adapter: TypeAdapter[Any] = TypeAdapter(annotation)

    def read(self, raw: bytes) -> Any:
        well_formed(raw)
        try:
            return self._adapter.validate_json(raw, strict=True)
        except ValidationError as invalid:
            raise RequestValidationError(_in_body(invalid), body=None) from None


def strictly(model: type[Any], value: Any) -> Any:
    """`value` (a part of a body already read, e.g. one command of a batch) validated as strictly as a body.

    Raises pydantic's ValidationError, with the locations inside `value`.
    """
    return model.model_validate_json(pydantic_core.to_json(value), strict=True)


def _in_body(invalid: ValidationError) -> list[Any]:
    return [{**error, "loc": ("body", *error["loc"])} for error in invalid.errors(include_url=False)]
