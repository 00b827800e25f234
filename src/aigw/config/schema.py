"""JSON Schema of environment files, and the configuration reference generated from it."""

from __future__ import annotations

from typing import Any

from aigw.config.model import EnvConfig

SCHEMA_ID = "https://aigw.dev/schema/environment.json"


def env_file_schema() -> dict[str, Any]:
    """Schema for one environment file. Top-level keys are optional: `extends` may supply them."""
    schema = EnvConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "aigw environment file"
    props = schema["properties"]
    props["env"]["description"] = "Environment name; defaults to the file name (dev.yaml: dev)."
    props["extends"] = {
        "type": "string",
        "description": "File this one extends (e.g. base.yaml), relative to this file.",
    }
    props["abstract"] = {
        "type": "boolean",
        "description": "A shared base, not an environment of its own.",
    }
    schema.pop("required", None)
    return schema


def _type_text(spec: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in spec:
        return "mapping"
    if "anyOf" in spec:
        kinds = [_type_text(s, defs) for s in spec["anyOf"] if s.get("type") != "null"]
        return " or ".join(kinds)
    if "enum" in spec:
        return " / ".join(f"`{v}`" for v in spec["enum"])
    if "const" in spec:
        return f"`{spec['const']}`"
    t = spec.get("type", "any")
    if t == "array":
        return "list"
    if t == "object":
        return "mapping"
    return str(t)


def reference_rows() -> list[tuple[str, str, str, str]]:
    """(key, type, default, description) for every setting, in schema order."""
    schema = env_file_schema()
    defs = schema.get("$defs", {})
    rows: list[tuple[str, str, str, str]] = []

    def walk(props: dict[str, Any], prefix: str, required: set[str]) -> None:
        for key, spec in props.items():
            path = f"{prefix}{key}"
            ref = spec.get("$ref") or (spec.get("items") or {}).get("$ref")
            if not ref:
                for alt in spec.get("anyOf", []):
                    ref = ref or alt.get("$ref")
            target = defs.get(ref.rsplit("/", 1)[-1]) if ref else None
            if target and "enum" in target:
                type_text = " / ".join(f"`{v}`" for v in target["enum"])
                target = None
            else:
                type_text = _type_text(spec, defs)
                if spec.get("type") == "array" and target:
                    type_text = "list of mappings"
            default = "required" if key in required else _default_text(spec)
            desc = spec.get("description") or (target or {}).get("description") or ""
            rows.append((f"`{path}`", type_text, default, " ".join(desc.split())))
            if target and "properties" in target:
                sub = f"{path}[]." if spec.get("type") == "array" else f"{path}."
                walk(target["properties"], sub, set(target.get("required", [])))

    required = set(EnvConfig.model_json_schema().get("required", [])) - {"env"}
    walk(schema["properties"], "", required)
    return rows


def _default_text(spec: dict[str, Any]) -> str:
    if "default" not in spec:
        return ""
    value = spec["default"]
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if value == {}:
        return "{}"
    return f"`{value}`"


def reference_markdown() -> str:
    lines = ["| key | type | default | description |", "|---|---|---|---|"]
    for row in reference_rows():
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    return "\n".join(lines) + "\n"
