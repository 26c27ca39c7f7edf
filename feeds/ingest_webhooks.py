"""HTTP ingest endpoints (placeholder; being written)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/ingest", tags=["ingest"])
