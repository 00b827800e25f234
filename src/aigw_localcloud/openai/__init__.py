"""The Azure OpenAI data-plane emulator. Stands alone: imports nothing else of the local
cloud."""
