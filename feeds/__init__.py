"""Collectors that turn outside sources into schema events: the simulator first, then webhooks,
RSS/Atom, WordPress, access logs, OwnTracks and OsmAnd. Imports only dispatch's core modules."""
