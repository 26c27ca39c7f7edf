"""Newsroom Command: the core (settings, schema, keys, bus, services) and the command server."""
