"""The local cloud's cache engine: a real Redis server (redis_server.py)."""
