"""Azure adapters: the only code that talks to Azure (or the local cloud), one module per
resource kind. Each module offers `observe`, `ensure` and `delete` over REST-shaped dicts."""
