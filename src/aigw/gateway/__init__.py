"""The gateway: its LiteLLM config, the LiteLLM virtualenv and process, `aigw serve`, the
smoke test, the shipped guard (files/), and the LiteLLM runner of the local cloud. Imports
nothing of the engine or the CLI."""
