"""Reading environment files: YAML, `extends`, merge, and one-line errors naming file and field."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from aigw.config.model import EnvConfig
from aigw.errors import ConfigError, UserError

MAX_FILE_BYTES = 256 * 1024
MAX_EXTENDS_DEPTH = 5
# A valid file has ~50 values; the limit only stops alias bombs (9 aliases of 9 aliases...).
MAX_EXPANDED_VALUES = 100_000
DEFAULT_ENV_DIR = Path("environments")


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "keys must be plain names, not lists or mappings", key_node.start_mark
            )
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


# What a pattern means, in words, for the fields whose rule is a regular expression.
PATTERN_TEXT = {
    "project": "use 2-24 lowercase letters and digits, single hyphens between, starting "
    "with a letter (it goes into every Azure name)",
    "env": "use 1-12 lowercase letters and digits, starting with a letter",
    "name_prefix": "use 1-8 lowercase letters and digits, starting with a letter",
    "location_short": "use 2-6 lowercase letters and digits, starting with a letter",
    "name_suffix": "use 'auto' or 1-6 lowercase letters and digits",
    "alias": "use letters, digits and . _ : / -, up to 64 characters",
    "deployment": "use letters, digits and . _ -, up to 64 characters",
    "subscription_id": "use the subscription's GUID (az account show --query id)",
}


@dataclass(frozen=True)
class LoadedEnv:
    config: EnvConfig
    path: Path
    chain: tuple[Path, ...]  # the file and the files it extends, child first


def env_dir_from(option: Path | None) -> Path:
    if option is not None:
        return option
    return Path(os.environ.get("AIGW_ENV_DIR", DEFAULT_ENV_DIR))


def available_envs(env_dir: Path) -> list[str]:
    """Environment names in `env_dir`: small regular files only (a FIFO, a device or a huge
    file next to them must not hang or balloon the listing), abstract ones left out."""
    if not env_dir.is_dir():
        return []
    out = []
    root = env_dir.resolve()
    for p in sorted(env_dir.glob("*.yaml")):
        if not p.resolve().is_relative_to(root):
            continue  # a symlink out of the folder is not an environment (S6): not even read
        try:
            head = _read_bounded(p, 4096).decode("utf-8", errors="replace")
        except (OSError, ValueError):
            continue
        if not p.stem.startswith("_") and "abstract: true" not in head:
            out.append(p.stem)
    return out


def _read_bounded(path: Path, limit: int) -> bytes:
    """At most `limit` bytes of a regular file of at most MAX_FILE_BYTES, checked before
    reading. Raises ValueError (what is wrong) or OSError."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise ValueError("not a regular file (a FIFO, device or folder?)")
    if st.st_size > MAX_FILE_BYTES:
        raise ValueError(f"file is {st.st_size} bytes; environment files are limited to 256 KiB")
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # never blocks, even if swapped for a FIFO
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise ValueError("not a regular file (a FIFO, device or folder?)")
        return fh.read(limit)


def _read_yaml(path: Path, shown: str) -> dict[str, Any]:
    try:
        raw = _read_bounded(path, MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(shown, "", "file not found") from None
    except OSError as e:
        raise ConfigError(shown, "", f"cannot read file: {e.strerror}") from None
    except ValueError as e:
        raise ConfigError(shown, "", str(e)) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(
            shown,
            "",
            f"file is over {MAX_FILE_BYTES} bytes; environment files are limited to 256 KiB",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(
            shown, f"byte {e.start}", "not valid UTF-8", hint="save the file as UTF-8"
        ) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = e.problem or e.context or "invalid YAML"
        raise ConfigError(shown, where, f"YAML error: {problem}") from None
    except yaml.YAMLError as e:
        raise ConfigError(shown, "", f"YAML error: {e}") from None
    except RecursionError:
        raise ConfigError(shown, "", "nested too deeply to be an environment file") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(shown, "", f"must be a mapping of settings, not {type(data).__name__}")
    if _expanded_size(data, MAX_EXPANDED_VALUES) > MAX_EXPANDED_VALUES:
        raise ConfigError(
            shown,
            "",
            f"more than {MAX_EXPANDED_VALUES} values once YAML aliases are expanded "
            "(an alias bomb?)",
            hint="write the values out, or use fewer aliases of aliases",
        )
    return data


def _expanded_size(data: Any, limit: int) -> int:
    """Values in `data` counting every alias as a copy (PyYAML shares them; merges and
    validation would not), stopping just past `limit`."""
    count = 0
    stack = [data]
    while stack and count <= limit:
        node = stack.pop()
        count += 1
        if isinstance(node, dict):
            stack.extend(node.values())
            count += len(node)
        elif isinstance(node, list):
            stack.extend(node)
    return count


def merge(base: Mapping[str, Any], child: Mapping[str, Any]) -> dict[str, Any]:
    """Child over base: mappings merge deeply, `models` merge by alias, other lists replace."""
    out: dict[str, Any] = dict(base)
    for key, value in child.items():
        if key == "models" and isinstance(value, list) and isinstance(base.get(key), list):
            out[key] = _merge_models(base[key], value)
        elif isinstance(value, Mapping) and isinstance(base.get(key), Mapping):
            out[key] = merge(base[key], value)
        else:
            out[key] = value
    return out


def _merge_models(base: list[Any], child: list[Any]) -> list[Any]:
    merged = list(base)
    index = {m.get("alias"): i for i, m in enumerate(merged) if isinstance(m, Mapping)}
    for m in child:
        alias = m.get("alias") if isinstance(m, Mapping) else None
        if alias in index and isinstance(m, Mapping):
            if m.get("remove") is True:
                merged[index[alias]] = None
            else:
                merged[index[alias]] = merge(merged[index[alias]], m)
        else:
            merged.append(m)
    return [m for m in merged if m is not None]


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_env(env: str, env_dir: Path | None = None) -> LoadedEnv:
    """Load, merge and validate `<env_dir>/<env>.yaml`. Raises UserError / ConfigError."""
    directory = env_dir_from(env_dir)
    if not re.fullmatch(r"[a-z][a-z0-9]{0,11}", env):
        raise UserError(
            f"invalid environment name {env[:40]!r}",
            hint="use 1-12 lowercase letters and digits, starting with a letter (e.g. dev, prod)",
        )
    path = directory / f"{env}.yaml"
    if path.exists() and not path.is_file():
        raise ConfigError(_display(path), "", "not a regular file (a FIFO, device or folder?)")
    if not path.is_file():
        names = available_envs(directory)
        known = ", ".join(names) if names else f"none in {_display(directory)}/"
        raise UserError(
            f"unknown environment {env!r}: no {_display(path)}",
            hint=f"available: {known}; or pass --env-dir",
        )
    chain: list[Path] = []
    layers: list[dict[str, Any]] = []
    current: Path | None = path
    root = directory.resolve()
    while current is not None:
        if current.resolve() in [c.resolve() for c in chain]:
            raise ConfigError(_display(chain[-1]), "extends", "extends itself in a loop")
        if len(chain) >= MAX_EXTENDS_DEPTH:
            raise ConfigError(_display(path), "extends", "more than 5 levels of extends")
        _inside(current, root, chain)
        data = _read_yaml(current, _display(current))
        chain.append(current)
        parent = data.pop("extends", None)
        abstract = data.pop("abstract", False)
        if not isinstance(abstract, bool):
            raise ConfigError(_display(current), "abstract", "must be true or false")
        if abstract and len(chain) == 1:
            names = available_envs(directory)
            raise UserError(
                f"{_display(path)} is abstract (a base other environments extend), "
                "not an environment",
                hint=f"available: {', '.join(names) if names else 'none'}",
            )
        layers.append(data)
        if parent is None:
            current = None
        elif not isinstance(parent, str) or not re.fullmatch(r"[\w.-]+\.ya?ml", parent):
            raise ConfigError(
                _display(current),
                "extends",
                "must name a YAML file in the same folder, such as base.yaml",
            )
        else:
            current = current.parent / parent
            if not current.exists():
                raise ConfigError(_display(chain[-1]), "extends", f"{parent!r} not found")
    merged: dict[str, Any] = {}
    for layer in reversed(layers):
        merged = merge(merged, layer)
    if "env" in merged and merged["env"] != env:
        raise ConfigError(
            _display(path), "env", f"says {merged['env']!r} but the file is {env}.yaml"
        )
    merged["env"] = env
    try:
        config = EnvConfig.model_validate(merged)
    except ValidationError as e:
        raise _to_config_error(e, chain, layers, merged) from None
    return LoadedEnv(config=config, path=path, chain=tuple(chain))


def _inside(file: Path, root: Path, chain: list[Path]) -> None:
    """Refuse a file (or the `extends` target) whose real path leaves the environments folder:
    a symlink must not make aigw read, and echo, a file from elsewhere."""
    if file.resolve().is_relative_to(root):
        return
    if chain:
        raise ConfigError(
            _display(chain[-1]),
            "extends",
            f"{file.name!r} resolves outside {_display(root)}/ (a symlink?): "
            "only files inside the environments folder are read",
        )
    raise ConfigError(
        _display(file),
        "",
        f"resolves outside {_display(root)}/ (a symlink?): "
        "only files inside the environments folder are read",
    )


def _loc_text(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _origin(
    loc: tuple[Any, ...], chain: list[Path], layers: list[dict[str, Any]], merged: Any
) -> Path:
    """The file (child first) that sets the value at `loc`, for the error message."""
    alias = None
    if len(loc) >= 2 and loc[0] == "models" and isinstance(loc[1], int):
        models = merged.get("models")
        if isinstance(models, list) and loc[1] < len(models) and isinstance(models[loc[1]], dict):
            alias = models[loc[1]].get("alias")
    for file, layer in zip(chain, layers, strict=True):
        node: Any = layer
        found = True
        for i, part in enumerate(loc):
            if i == 1 and loc[0] == "models" and isinstance(node, list):
                match = [m for m in node if isinstance(m, dict) and m.get("alias") == alias]
                if not match:
                    found = False
                    break
                node = match[0]
            elif (isinstance(node, dict) and part in node) or (
                isinstance(node, list) and isinstance(part, int) and part < len(node)
            ):
                node = node[part]
            else:
                found = False
                break
        if found:
            return file
    return chain[0]


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] | None = EnvConfig
    for part in loc[:-1]:
        if model is None or isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        ann = field.annotation
        args = getattr(ann, "__args__", ())
        candidates = [ann, *args]
        model = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
    return sorted(model.model_fields) if model else []


MAX_PROBLEMS_SHOWN = 4


def _to_config_error(
    err: ValidationError, chain: list[Path], layers: list[dict[str, Any]], merged: Any
) -> ConfigError:
    """Every problem in one line, unknown keys (with did-you-mean) first, each named by the
    file that sets it and indexed by that file's own `models` entries."""
    errors = err.errors(include_url=False, include_input=False)
    errors.sort(key=lambda e: e["type"] != "extra_forbidden")  # a typo explains the rest
    problems: list[tuple[str, str, str]] = []  # (file, field, problem)
    hint = None
    for e in errors:
        loc = tuple(e["loc"])
        msg, allowed = _problem_text(e, loc)
        if allowed and hint is None and "did you mean" not in msg:
            hint = "allowed: " + ", ".join(allowed)
        origin, file_loc = _origin_in_file(loc, chain, layers, merged)
        item = (_display(origin), _loc_text(file_loc) or "(top level)", msg)
        if item not in problems:
            problems.append(item)
    (shown, field, first), rest = problems[0], problems[1:]
    parts = [first]
    for other_file, other_field, msg in rest[: MAX_PROBLEMS_SHOWN - 1]:
        where = other_field if other_file == shown else f"{other_file}: {other_field}"
        parts.append(f"{where}: {msg}")
    if len(rest) >= MAX_PROBLEMS_SHOWN:
        parts.append(f"and {len(rest) - MAX_PROBLEMS_SHOWN + 1} more")
    return ConfigError(shown, field, "; ".join(parts), hint=hint if not rest else None)


def _problem_text(e: Any, loc: tuple[Any, ...]) -> tuple[str, list[str]]:
    """(what is wrong, the allowed keys for an unknown one)."""
    msg = str(e["msg"]).removeprefix("Value error, ")
    allowed: list[str] = []
    if e["type"] == "extra_forbidden":
        import difflib

        allowed = _allowed_keys(loc)
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1) if allowed else []
        msg = f"unknown key (did you mean {close[0]!r}?)" if close else "unknown key"
    elif e["type"] == "string_pattern_mismatch" and loc and loc[-1] in PATTERN_TEXT:
        msg = PATTERN_TEXT[str(loc[-1])]
    elif e["type"] == "missing":
        msg = "is required"
    elif e["type"] == "string_type" and loc and loc[-1] == "api_version":
        msg = "must be a quoted string such as '2025-04-01-preview'"
    return msg, allowed


def _origin_in_file(
    loc: tuple[Any, ...], chain: list[Path], layers: list[dict[str, Any]], merged: Any
) -> tuple[Path, tuple[Any, ...]]:
    """The file that sets `loc`, and `loc` with the merged models index replaced by the index
    of that model among the file's own `models` entries."""
    file = _origin(loc, chain, layers, merged)
    if len(loc) < 2 or loc[0] != "models" or not isinstance(loc[1], int):
        return file, loc
    models = merged.get("models") if isinstance(merged, dict) else None
    if not isinstance(models, list) or loc[1] >= len(models):
        return file, loc
    entry = models[loc[1]]
    alias = entry.get("alias") if isinstance(entry, dict) else None
    own = layers[chain.index(file)].get("models")
    if isinstance(own, list):
        for j, m in enumerate(own):
            if m is entry or (
                alias is not None and isinstance(m, dict) and m.get("alias") == alias
            ):
                return file, ("models", j, *loc[2:])
    return file, loc
