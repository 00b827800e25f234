"""The command line: `app` (the typer root and `main`), shared options, one module per
command group."""
