"""Whether a new JSON Schema of an event still reads what consumers of the old one expect.

A consumer of a committed schema breaks if a property it reads is removed, changes type (null added
or removed, another format), or becomes required. A new optional property is fine (schemas are open).
Compared at any depth, following local `$ref`s.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

Json = dict[str, Any]
DEF_REF = re.compile(r"^#/\$defs/(?P<name>[^/]+)$")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _resolve(node: Any, root: Json, seen: frozenset[str] = frozenset()) -> Json:
    """The node with its local `$ref` (to `#/$defs/...`) followed; an unresolvable one stays as it is."""
    if not isinstance(node, dict):
        return {}
    ref = node.get("$ref")
    match = DEF_REF.match(ref) if isinstance(ref, str) else None
    if match is None or ref in seen:
        return node
    target = root.get("$defs", {}).get(match.group("name"))
    return _resolve(target, root, seen | {str(ref)}) if isinstance(target, dict) else node


def _branches(node: Any, root: Json) -> list[Json]:
    """The alternatives a value may take: anyOf/oneOf flattened, refs followed."""
    resolved = _resolve(node, root)
    alternatives = resolved.get("anyOf") or resolved.get("oneOf")
    if isinstance(alternatives, list):
        return [branch for alternative in alternatives for branch in _branches(alternative, root)]
    all_of = resolved.get("allOf")
    if isinstance(all_of, list) and all_of:
        merged: Json = {k: v for k, v in resolved.items() if k != "allOf"}
        for part in all_of:
            for branch in _branches(part, root):
                merged.setdefault("properties", {}).update(branch.get("properties", {}))
                merged["required"] = [*merged.get("required", []), *branch.get("required", [])]
                merged.update({k: v for k, v in branch.items() if k not in ("properties", "required")})
        return [merged]
    return [resolved]


def _types(branches: Sequence[Json]) -> frozenset[str]:
    """What JSON types the value may be, a string's format included (`string:date`)."""
    found: set[str] = set()
    for branch in branches:
        declared = branch.get("type")
        if isinstance(declared, str):
            names = [declared]
        elif isinstance(declared, list):
            names = [str(name) for name in declared]
        elif "const" in branch:
            names = [_json_type(branch["const"])]
        elif isinstance(branch.get("enum"), list):
            names = [_json_type(value) for value in branch["enum"]]
        else:
            names = ["any"]
        fmt = branch.get("format")
        found |= {f"{name}:{fmt}" if name == "string" and isinstance(fmt, str) else name for name in names}
    return frozenset(found)


def _of_type(branches: Sequence[Json], kind: str) -> list[Json]:
    return [b for b in branches if b.get("type") == kind or (isinstance(b.get("type"), list) and kind in b["type"])]


def _describe(types: frozenset[str]) -> str:
    return " | ".join(sorted(types))


def _compare(
    old: Any, old_root: Json, new: Any, new_root: Json, path: str, problems: list[str], seen: set[Any]
) -> None:
    key = (path, json.dumps(old, sort_keys=True), json.dumps(new, sort_keys=True))
    if key in seen:
        return
    seen.add(key)
    old_branches, new_branches = _branches(old, old_root), _branches(new, new_root)
    old_types, new_types = _types(old_branches), _types(new_branches)
    where = path or "(the event)"
    if old_types != new_types:
        problems.append(f"{where}: type changed from {_describe(old_types)} to {_describe(new_types)}")
    old_objects, new_objects = _of_type(old_branches, "object"), _of_type(new_branches, "object")
    if old_objects and new_objects:
        old_properties = {n: s for b in old_objects for n, s in b.get("properties", {}).items()}
        new_properties = {n: s for b in new_objects for n, s in b.get("properties", {}).items()}
        old_required = set.intersection(*(set(b.get("required", [])) for b in old_objects))
        new_required = set.intersection(*(set(b.get("required", [])) for b in new_objects))
        for name in sorted(new_required - old_required):
            inner = f"{path}.{name}" if path else name
            was = "it was optional" if name in old_properties else "a new property"
            problems.append(f"{inner}: newly required ({was})")
        for name, property_schema in old_properties.items():
            inner = f"{path}.{name}" if path else name
            if name not in new_properties:
                problems.append(f"{inner}: property removed")
            else:
                _compare(property_schema, old_root, new_properties[name], new_root, inner, problems, seen)
        old_values = [b["additionalProperties"] for b in old_objects if isinstance(b.get("additionalProperties"), dict)]
        new_values = [b["additionalProperties"] for b in new_objects if isinstance(b.get("additionalProperties"), dict)]
        if old_values and new_values:
            _compare(old_values[0], old_root, new_values[0], new_root, f"{path}{{*}}", problems, seen)
    old_arrays, new_arrays = _of_type(old_branches, "array"), _of_type(new_branches, "array")
    if old_arrays and new_arrays:
        old_items, new_items = old_arrays[0].get("items"), new_arrays[0].get("items")
        if isinstance(old_items, dict) and isinstance(new_items, dict):
            _compare(old_items, old_root, new_items, new_root, f"{path}[]", problems, seen)
        for n, (old_item, new_item) in enumerate(
            zip(old_arrays[0].get("prefixItems", []), new_arrays[0].get("prefixItems", []), strict=False)
        ):
            _compare(old_item, old_root, new_item, new_root, f"{path}[{n}]", problems, seen)


def compatibility_problems(old: Json, new: Json) -> list[str]:
    """Why data valid for `new` could break a consumer written for `old` (empty: compatible).

    A break is a property removed, a property's type changed (a string's format included), or a property
    newly required, at any depth (nested objects, array items, map values). Adding an optional property is
    compatible.
    """
    problems: list[str] = []
    _compare(old, old, new, new, "", problems, set())
    return problems


def catalogue_problems(committed: Mapping[str, Json], generated: Mapping[str, Json]) -> list[str]:
    """Every break between the committed schemas and the generated ones, a vanished schema included.

    A generated schema with no committed counterpart (a new event type, a new schema version) is fine.
    """
    problems = []
    for ce_type, old in sorted(committed.items()):
        new = generated.get(ce_type)
        if new is None:
            problems.append(f"{ce_type}: no event model generates it any more (an event version must never disappear)")
        else:
            problems += [f"{ce_type}: {problem}" for problem in compatibility_problems(old, new)]
    return problems
