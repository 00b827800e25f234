"""Environment files: the model, loading and merging YAML, resource names, regions, the JSON
Schema, `aigw init`. Imports nothing of the engine or the CLI."""
