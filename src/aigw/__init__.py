"""aigw: deploy and operate an AI gateway (LiteLLM on Azure Container Apps)."""

__version__ = "0.1.0"
