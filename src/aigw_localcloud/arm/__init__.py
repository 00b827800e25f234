"""The ARM management plane: one route module per resource kind (named like aigw's resource
adapters), their shared helpers (`common`), Microsoft.App names, locations and the restart of
active apps. Sits above apps/ (it starts the apps) and vault/."""
