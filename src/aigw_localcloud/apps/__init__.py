"""Container Apps at run time: the `AppRunner` protocol, a stored app turned into the
`ContainerSpec` a runner starts (its Key Vault references resolved), app process ids. Imports
vault/ and core/, never arm/."""
