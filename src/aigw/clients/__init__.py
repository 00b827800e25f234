"""Coding clients that use the gateway (settings for each)."""
