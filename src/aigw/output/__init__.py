"""Renderers: the terminal UI, plan and run reports, GitHub output, output formats, help."""
