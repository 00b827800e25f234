"""A corpus of broken environment files, generated from a minimal valid one (bad_env/
valid_minimal.yaml) plus the static fixtures in tests/fixtures/bad_env/."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bad_env"
VALID = (FIXTURES / "valid_minimal.yaml").read_text(encoding="utf-8")
IMAGE = (
    "litellm/litellm:v1.81.15@sha256:"
    + "d104dae60f1a0c8fc93f837ec30ec4e6430ee70b0d3636874c26bc9920ae34a7"
)


def _sub(old: str, new: str) -> bytes:
    assert old in VALID, old
    return VALID.replace(old, new, 1).encode()


def _add(text: str) -> bytes:
    return (VALID + text).encode()


# Files refused today with another exception, or not refused at all (strict xfails: a fix
# turns them red until removed from here). Empty: every gap found so far is fixed.
KNOWN_GAPS: dict[str, str] = {}


def corpus() -> dict[str, bytes]:
    """name -> file bytes; every one must be refused with one line (a UserError)."""
    c: dict[str, bytes] = {
        # wrong types
        "project_int": _sub("project: aigateway", "project: 123"),
        "project_list": _sub("project: aigateway", "project: [a, b]"),
        "models_mapping": _sub("models:\n", "models: {}\nx_models:\n"),
        "models_string": VALID.split("models:")[0].encode() + b"models: gpt\n",
        "models_item_string": VALID.split("models:")[0].encode() + b"models:\n  - gpt\n",
        "gateway_list": _sub("gateway:\n  image:", "gateway: []\nx:\n  image:"),
        "port_string": _add("  port: abc\n").replace(b"models:", b"x_models:", 0),
        "replicas_float": _sub("gateway:\n", "gateway:\n  max_replicas: 1.5\n"),
        "replicas_huge": _sub("gateway:\n", "gateway:\n  max_replicas: 99999999999999999999999\n"),
        "cpu_nan": _sub("gateway:\n", "gateway:\n  cpu: .nan\n"),
        "cpu_inf": _sub("gateway:\n", "gateway:\n  cpu: .inf\n"),
        "cpu_string": _sub("gateway:\n", "gateway:\n  cpu: lots\n"),
        "tags_list": _add("tags: [a, b]\n"),
        "tags_nested": _add("tags:\n  a: [1, 2]\n"),
        "tags_null_value": _add("tags:\n  a:\n"),
        "bool_as_string": _sub("gateway:\n", "gateway:\n  port: yes\n"),
        "dimensions_negative": _sub("dimensions: 3072", "dimensions: -1"),
        "dimensions_string": _sub("dimensions: 3072", "dimensions: many"),
        # unknown keys
        "unknown_top": _add("colour: blue\n"),
        "unknown_nested": _sub("gateway:\n", "gateway:\n  imgae: x\n"),
        "unknown_model_key": _sub("    kind: responses\n", "    kind: responses\n    temp: 1\n"),
        # YAML syntax and structure
        "unclosed_bracket": _add("tags: [a, b\n"),
        "unclosed_quote": _add('tags:\n  a: "b\n'),
        "bad_indent": _sub("  endpoint:", "     endpoint:\n  x:"),
        "tab_indent": _sub("  endpoint:", "\tendpoint:"),
        "colon_colon": _add(": :\n"),
        "only_comments": b"# nothing here\n",
        "empty": b"",
        "null_document": b"null\n",
        "scalar_document": b"just a string\n",
        "list_document": b"- a\n- b\n",
        "two_documents": VALID.encode() + b"---\nproject: other\n",
        "python_tag": _add("tags: !!python/object:os.system {}\n"),
        "set_tag": _add("tags: !!set {a, b}\n"),
        "list_key": _add("? [a, b]\n: c\n"),
        "mapping_key": _add("? {a: b}\n: c\n"),
        "int_key": _add("1: x\n"),
        "null_key": _add("~: x\n"),
        "alias_bomb": (
            b'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
            b"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
            b"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
            b"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
            b"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
            b"f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
            b"g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n" + VALID.encode()
        ),
        "recursive_alias": _add("tags: &t\n  a: *t\n"),
        "deep_nesting": b"project: " + b"[" * 5000 + b"]" * 5000 + b"\n",
        "deep_mapping": b"".join(b"  " * i + b"k:\n" for i in range(3000)) + b"  " * 3000 + b"v\n",
        "duplicate_key_nested": _sub("gateway:\n", "gateway:\n  port: 1\n  port: 2\n"),
        # dates, versions, names, images
        "unquoted_date": _sub('api_version: "2025-04-01-preview"', "api_version: 2025-04-01"),
        "unquoted_datetime": _sub('api_version: "2023-05-15"', "api_version: 2023-05-15 10:00:00"),
        "version_number": _sub('api_version: "2023-05-15"', "api_version: 2023.05"),
        "duplicate_alias": _add(
            "  - alias: gpt-5.3-codex\n    kind: chat\n    api_version: '2024-10-21'\n"
        ),
        "project_uppercase": _sub("project: aigateway", "project: AIGateway"),
        "project_underscore": _sub("project: aigateway", "project: ai_gateway"),
        "project_too_long": _sub("project: aigateway", "project: " + "a" * 60),
        "project_empty": _sub("project: aigateway", "project: ''"),
        "project_unicode": _sub("project: aigateway", "project: aigatewäy"),
        "prefix_hyphen_end": _add("name_prefix: pvc-\n"),
        "alias_space": _sub("alias: gpt-5.3-codex", "alias: gpt 5"),
        "image_no_digest": _sub(IMAGE, "litellm/litellm:v1.81.15"),
        "image_latest": _sub(IMAGE, "litellm/litellm:latest"),
        "image_short_digest": _sub(IMAGE, "litellm/litellm@sha256:abc"),
        "image_empty": _sub(IMAGE, "''"),
        "endpoint_http": _sub("https://example", "http://example"),
        "endpoint_query": _sub(".azure.com", ".azure.com/?x=1"),
        "endpoint_not_url": _sub("https://example.cognitiveservices.azure.com", "example"),
        "location_unknown": _sub("location: southafricanorth", "location: mars"),
        "env_var_lowercase_bad": _add("  key_env: 'not a var'\n").replace(b"models:", b"x:", 0),
        # encodings and sizes
        "latin1": _sub("project: aigateway", "project: caf\u00e9").decode().encode("latin-1"),
        "utf16": VALID.encode("utf-16"),
        "nul_bytes": _add("tags:\n  a: b\x00c\n"),
        "control_chars": _add("tags:\n  a: \x07\x1b[31m\n"),
        "huge_comment": VALID.encode() + b"#" + b"x" * (300 * 1024) + b"\n",
        "huge_list": _add("tags:\n" + "".join(f"  k{i}: v\n" for i in range(20000))),
        "long_line": _add("tags:\n  a: " + "x" * 200_000 + "\n"),
        # extends
        "extends_self": b"extends: broken.yaml\n" + VALID.encode(),
        "extends_int": b"extends: 3\n" + VALID.encode(),
        "extends_list": b"extends: [base.yaml]\n" + VALID.encode(),
        "extends_absolute": b"extends: /etc/passwd\n" + VALID.encode(),
        "extends_traversal": b"extends: ../../../../etc/hostname\n" + VALID.encode(),
        "extends_directory": b"extends: .\n" + VALID.encode(),
        "env_mismatch": b"env: other\n" + VALID.encode(),
        # issue 17 R10: tags Azure refuses or that shadow aigw's own, odd endpoints, impossible
        # api-version dates, strings or numbers where a bool cannot be undone
        "tag_empty_key": _add("tags:\n  '': v\n"),
        "tag_prefix_microsoft": _add("tags:\n  microsoft.cost: v\n"),
        "tag_prefix_azure": _add("tags:\n  Azure-team: v\n"),
        "tag_prefix_windows": _add("tags:\n  WINDOWSx: v\n"),
        "tag_own_managed_by": _add("tags:\n  Managed-By: someone\n"),
        "tag_own_env": _add("tags:\n  AIGW-ENV: other\n"),
        "endpoint_port_0": _sub(".azure.com", ".azure.com:0"),
        "endpoint_port_99999": _sub(".azure.com", ".azure.com:99999"),
        "endpoint_host_dots": _sub("https://example.cognitiveservices.azure.com", "https://..."),
        "endpoint_host_hyphen": _sub("https://example.cognitiveservices.azure.com", "https://-a.b"),
        "api_version_month_13": _sub('api_version: "2023-05-15"', 'api_version: "2023-13-45"'),
        "api_version_feb_30": _sub('api_version: "2023-05-15"', 'api_version: "2024-02-30"'),
        "purge_protection_string": _add("key_vault:\n  purge_protection: 'yes'\n"),
        "purge_protection_int": _add("key_vault:\n  purge_protection: 1\n"),
        "abstract_string": _add("abstract: 'no'\n"),
    }
    for p in sorted(FIXTURES.glob("*.yaml")):
        if p.stem != "valid_minimal":
            c[f"fixture_{p.stem}"] = p.read_bytes()
    return c
