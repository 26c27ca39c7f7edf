"""Servers the bench compares against, each a tiny program run as its own process.

- `bus_server`: our fan-out path alone: `dispatch.bus.Bus` (one PSUBSCRIBE, bounded per-client
  queues) behind a FastAPI websocket route, served with `dispatch.app.uvicorn_config`.
- `socketio_server`: python-socketio with its AsyncRedisManager on uvicorn.
- `ws_broadcast`: the websockets library's own server and `broadcast()` (the practical limit).
- `raw_floor`: hand-written asyncio protocols, one pre-encoded frame written to every
  transport (the floor of Python on this machine).
- `interval_wall`: the same wall on a 1 s dcc.Interval (scenario event → wall).
"""
