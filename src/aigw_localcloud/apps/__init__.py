"""Container Apps at run time: a stored app turned into the `ContainerSpec` a runner starts (its
Key Vault references resolved, `kv_refs`), app process ids (`app_pids`). The `AppRunner`
protocol itself is in core/ (the engine holds the injected runner). Imports vault/ and core/,
never arm/."""
