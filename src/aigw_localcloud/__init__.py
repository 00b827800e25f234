"""A local cloud for aigw: emulators of Azure Resource Manager, Key Vault and Azure OpenAI.

Everything here listens on 127.0.0.1 only and never talks to real Azure.
"""
