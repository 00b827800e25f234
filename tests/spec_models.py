"""Microsoft's definitions as the pinned Azure SDK packages generated them, and a JSON checker.

Each package is generated from the REST spec of exactly the api-version it sends, or keeps one
models module per api-version. Two generator styles are read:

- msrest models (`_attribute_map`: JSON key, with `properties.x` for flattened properties, and
  type; `_validation`: required / readonly / constant / pattern / length / range; enums from the
  `:vartype x: str or ~...Enum` line the generator writes);
- TypeSpec models (`rest_field(name=..., visibility=[...])` with type annotations: not
  `Optional` = required, visibility without create/update = readOnly, `Union[str, Enum]` = enum).

Enums are checked exactly (Azure's are extensible strings: this is stricter than Azure). Null is
accepted in responses for optional properties, as Microsoft's oav does
(Azure/oav lib/transform/nullableTransformer.ts), and refused in requests.

Shares no code with the local cloud or with aigw's adapters.
"""

from __future__ import annotations

import datetime
import enum
import functools
import importlib
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any

# --- schemas --------------------------------------------------------------------------------


@dataclass
class Schema:
    """One JSON type: string/integer/number/boolean/datetime/any/array/map/object."""

    kind: str
    enum: frozenset[str] | None = None
    item: Schema | None = None  # array and map values
    model: type | None = None  # object: the SDK model class
    fields_: dict[str, Field] | None = None  # object: synthetic (flattened `properties`)
    constraints: dict[str, Any] = field(default_factory=dict)

    def fields(self) -> dict[str, Field]:
        if self.fields_ is not None:
            return self.fields_
        assert self.model is not None
        return model_fields(self.model)


@dataclass
class Field:
    name: str
    schema: Schema
    required: bool = False
    readonly: bool = False


def _is_msrest(cls: type) -> bool:
    return hasattr(cls, "_attribute_map")


def _split_key(key: str) -> list[str]:
    return [p.replace("\\.", ".") for p in re.split(r"(?<!\\)\.", key)]


@functools.cache
def model_fields(cls: type) -> dict[str, Field]:
    return _msrest_fields(cls) if _is_msrest(cls) else _typespec_fields(cls)


# msrest ----------------------------------------------------------------------------------------

_MSREST_SCALARS = {
    "str": "string",
    "int": "integer",
    "long": "integer",
    "float": "number",
    "bool": "boolean",
    "object": "any",
    "iso-8601": "datetime",
    "rfc-1123": "string",
    "duration": "string",
    "date": "string",
    "bytearray": "string",
    "base64": "string",
    "unix-time": "integer",
}


def _msrest_schema(type_name: str, models: types.ModuleType) -> Schema:
    if type_name.startswith("[") and type_name.endswith("]"):
        return Schema("array", item=_msrest_schema(type_name[1:-1], models))
    if type_name.startswith("{") and type_name.endswith("}"):
        return Schema("map", item=_msrest_schema(type_name[1:-1], models))
    if type_name in _MSREST_SCALARS:
        return Schema(_MSREST_SCALARS[type_name])
    target = getattr(models, type_name, None)
    if isinstance(target, type) and issubclass(target, enum.Enum):
        return Schema("string", enum=frozenset(str(e.value) for e in target))
    if isinstance(target, type):
        return Schema("object", model=target)
    raise LookupError(f"{models.__name__}: no model {type_name}")


def _msrest_enums(cls: type, models: types.ModuleType) -> dict[str, frozenset[str]]:
    """The generator writes `:vartype attr: str or ~pkg.models.EnumName` for enum properties."""
    out: dict[str, frozenset[str]] = {}
    for klass in cls.__mro__:
        for attr, enum_name in re.findall(
            r":vartype (\w+): str or\s+~[\w.]+\.(\w+)", klass.__doc__ or ""
        ):
            target = getattr(models, enum_name, None)
            if isinstance(target, type) and issubclass(target, enum.Enum) and attr not in out:
                out[attr] = frozenset(str(e.value) for e in target)
    return out


_CONSTRAINT_KEYS = (
    "pattern",
    "max_length",
    "min_length",
    "maximum",
    "minimum",
    "max_items",
    "min_items",
)


def _msrest_fields(cls: type) -> dict[str, Field]:
    models = importlib.import_module(cls.__module__.rsplit(".", 1)[0])
    attribute_map: dict[str, dict[str, str]] = cls._attribute_map  # type: ignore[attr-defined]
    validation: dict[str, dict[str, Any]] = getattr(cls, "_validation", {})
    enums = _msrest_enums(cls, models)
    top: dict[str, Field] = {}
    open_object = False
    for attr, spec in attribute_map.items():
        if spec["key"] == "":
            open_object = True  # additional_properties
            continue
        rules = validation.get(attr, {})
        schema = _msrest_schema(spec["type"], models)
        if attr in enums:
            schema.enum = enums[attr]
        if rules.get("constant"):
            schema.enum = frozenset({str(getattr(cls, attr))})
        schema.constraints = {k: rules[k] for k in _CONSTRAINT_KEYS if k in rules}
        leaf = Field("", schema, bool(rules.get("required")), bool(rules.get("readonly")))
        parts = _split_key(spec["key"])
        level = top
        for part in parts[:-1]:  # flattened: properties.x -> {"properties": {"x": ...}}
            holder = level.get(part)
            if holder is None:
                holder = level[part] = Field(part, Schema("object", fields_={}))
            if leaf.required and not leaf.readonly:
                holder.required = True
            assert holder.schema.fields_ is not None
            level = holder.schema.fields_
        leaf.name = parts[-1]
        level[parts[-1]] = leaf
    if open_object:
        top["*"] = Field("*", Schema("any"))
    return top


# TypeSpec (hybrid) models ---------------------------------------------------------------------


# Definitions whose spec allows additional properties where the generated TypeSpec model keeps no
# trace of it (the msrest generator keeps it as `additional_properties`).
OPEN_MODELS = {
    # specification/operationalinsights/resource-manager/Microsoft.OperationalInsights/
    # OperationalInsights/stable/2025-07-01/Workspaces.json, WorkspaceFeatures:
    # "additionalProperties": true (Azure returns e.g. "legacy" and "searchVersion" there).
    "azure.mgmt.loganalytics.models.WorkspaceFeatures",
}


def _typespec_schema(annotation: Any, models: types.ModuleType) -> tuple[Schema, bool]:
    """(schema, optional) from a resolved type annotation."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        optional = type(None) in args
        rest = [a for a in args if a is not type(None)]
        enums = [a for a in rest if isinstance(a, type) and issubclass(a, enum.Enum)]
        if enums and all(a is str or a in enums for a in rest):
            values = frozenset(str(e.value) for en in enums for e in en)
            return Schema("string", enum=values), optional
        if len(rest) == 1:
            return _typespec_schema(rest[0], models)[0], optional
        return Schema("any"), optional
    if origin is typing.Literal:
        return Schema("string", enum=frozenset(str(a) for a in args)), False
    if origin is list:
        return Schema("array", item=_typespec_schema(args[0], models)[0]), False
    if origin is dict:
        return Schema("map", item=_typespec_schema(args[1], models)[0]), False
    scalars: dict[Any, str] = {
        str: "string",
        int: "integer",
        float: "number",
        bool: "boolean",
        datetime.datetime: "datetime",
        datetime.timedelta: "string",
        datetime.date: "string",
        bytes: "string",
        Any: "any",
    }
    if annotation in scalars:
        return Schema(scalars[annotation]), False
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return Schema("string", enum=frozenset(str(e.value) for e in annotation)), False
    if isinstance(annotation, type):
        return Schema("object", model=annotation), False
    raise LookupError(f"unsupported annotation {annotation!r}")


def _typespec_fields(cls: type) -> dict[str, Field]:
    package = cls.__module__.rsplit(".", 1)[0]
    models = importlib.import_module(package)
    out: dict[str, Field] = {}
    if f"{package}.{cls.__name__}" in OPEN_MODELS:
        out["*"] = Field("*", Schema("any"))
    for klass in reversed(cls.__mro__):
        if not klass.__module__.startswith(package):
            continue
        hints = typing.get_type_hints(
            klass,
            globalns=vars(importlib.import_module(klass.__module__)),
            localns={"_models": models},
        )
        for attr, value in vars(klass).items():
            if attr.startswith("_") or not hasattr(value, "_visibility"):
                continue
            name = value._rest_name_input or attr
            schema, optional = _typespec_schema(hints[attr], models)
            if getattr(value, "_format", None) == "unix-timestamp":  # JSON integer seconds
                schema = Schema("integer")
            visibility = value._visibility or []
            readonly = bool(visibility) and not ({"create", "update"} & set(visibility))
            out[name] = Field(name, schema, required=not optional, readonly=readonly)
    return out


def _typespec_subtype(cls: type, body: dict[str, Any]) -> type:
    """A polymorphic model's subtype, chosen by its discriminator value."""
    mapping = getattr(cls, "__mapping__", None)
    if not mapping:
        return cls
    for value in vars(cls).values():
        if getattr(value, "_is_discriminator", False):
            name = value._rest_name_input
            return typing.cast(type, mapping.get(body.get(name), cls))
    return cls


def _msrest_subtype(cls: type, body: dict[str, Any]) -> type:
    subtypes: dict[str, dict[str, str]] = getattr(cls, "_subtype_map", {}) or {}
    models = importlib.import_module(cls.__module__.rsplit(".", 1)[0])
    for attr, table in subtypes.items():
        key = cls._attribute_map[attr]["key"]  # type: ignore[attr-defined]
        chosen = table.get(body.get(key))  # type: ignore[arg-type]
        if chosen:
            return typing.cast(type, getattr(models, chosen))
    return cls


# --- validation -------------------------------------------------------------------------------

_JSON_TYPES = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "datetime": str,
}
_ISO_8601 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?$")


def _json_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )


def validate(
    value: Any, schema: Schema, *, request: bool, path: str = ""
) -> list[tuple[str, str, str]]:
    """(path, kind, detail) for each way `value` breaks `schema`."""
    out: list[tuple[str, str, str]] = []
    kind = schema.kind
    if kind == "any":
        return out
    if kind in ("object", "map") and not isinstance(value, dict):
        return [(path, "wrong-type", f"expected object, got {_json_type(value)}")]
    if kind == "array":
        if not isinstance(value, list):
            return [(path, "wrong-type", f"expected array, got {_json_type(value)}")]
        out += _constraints(value, schema, path)
        for i, item in enumerate(value):
            assert schema.item is not None
            out += validate(item, schema.item, request=request, path=f"{path}[{i}]")
        return out
    if kind == "map":
        assert schema.item is not None
        for k, v in value.items():
            out += validate(v, schema.item, request=request, path=f"{path}.{k}" if path else k)
        return out
    if kind == "object":
        return out + _validate_object(value, schema, request=request, path=path)
    expected = _JSON_TYPES[kind]
    if not isinstance(value, expected) or (kind != "boolean" and isinstance(value, bool)):
        return [(path, "wrong-type", f"expected {kind}, got {_json_type(value)}")]
    if kind == "datetime" and not _ISO_8601.match(value):
        out.append((path, "wrong-type", f"expected an ISO 8601 date-time, got {value!r}"))
    if schema.enum is not None and str(value) not in schema.enum:
        out.append((path, "bad-enum", f"{value!r} not in {sorted(schema.enum)}"))
    return out + _constraints(value, schema, path)


def _constraints(value: Any, schema: Schema, path: str) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    c = schema.constraints
    if "pattern" in c and isinstance(value, str) and not re.search(c["pattern"], value):
        out.append((path, "constraint", f"{value!r} does not match {c['pattern']}"))
    size = len(value) if isinstance(value, str | list) else None
    for key, ok in (
        ("max_length", lambda n, m: n <= m),
        ("min_length", lambda n, m: n >= m),
        ("max_items", lambda n, m: n <= m),
        ("min_items", lambda n, m: n >= m),
    ):
        if key in c and size is not None and not ok(size, c[key]):
            out.append((path, "constraint", f"length {size} breaks {key}={c[key]}"))
    if "maximum" in c and isinstance(value, int | float) and value > c["maximum"]:
        out.append((path, "constraint", f"{value} > maximum {c['maximum']}"))
    if "minimum" in c and isinstance(value, int | float) and value < c["minimum"]:
        out.append((path, "constraint", f"{value} < minimum {c['minimum']}"))
    return out


def _validate_object(
    value: dict[str, Any], schema: Schema, *, request: bool, path: str
) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    if schema.model is not None:
        chosen = (_msrest_subtype if _is_msrest(schema.model) else _typespec_subtype)(
            schema.model, value
        )
        if chosen is not schema.model:
            schema = Schema("object", model=chosen)
    fields = schema.fields()
    prefix = f"{path}." if path else ""
    for name, f in fields.items():
        if name == "*":
            continue
        if name not in value:
            if f.required and not (request and f.readonly):
                out.append((prefix + name, "missing-required", "required by the definition"))
            continue
        if request and f.readonly:
            out.append((prefix + name, "readonly-sent", "readOnly: the server sets it"))
            continue
        if value[name] is None and not request and not f.required:
            continue  # oav (lib/transform/nullableTransformer.ts): optional means nullable
        out += validate(value[name], f.schema, request=request, path=prefix + name)
    if "*" not in fields:
        for name in value:
            if name not in fields:
                out.append((prefix + name, "unknown-property", "not in the definition"))
    return out
