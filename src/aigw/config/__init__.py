"""Environment files: the model, loading and merging YAML, resource names, regions, the JSON
Schema, `aigw init`. Imports nothing of the engine or the CLI."""

# `aigw init --envs` default; here (not in init_envs) so the CLI can show it without importing
# pydantic: `aigw --help` and shell completion import no model (tests/cli/test_import_graph.py).
DEFAULT_ENVS = "dev,staging,prod"
