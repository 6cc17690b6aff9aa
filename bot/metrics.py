"""Prometheus metrics of the running bot, served at GET /metrics in webhook mode; other code sets OUTBOX_DEPTH."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import Order

REGISTRY = CollectorRegistry()
UPDATES = Counter("stroboscope_updates", "Updates taken in, by type", ["type"], registry=REGISTRY)
ERRORS = Counter("stroboscope_update_errors", "Updates whose handling raised, by type", ["type"], registry=REGISTRY)
LATENCY = Histogram(
    "stroboscope_update_seconds",
    "Time to handle an update, by type",
    ["type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
OUTBOX_DEPTH = Gauge("stroboscope_outbox_depth", "Messages waiting in the outbox to be sent", registry=REGISTRY)
ORDERS = Gauge("stroboscope_orders", "Orders by state, counted at each scrape", ["state"], registry=REGISTRY)


async def render(engine: AsyncEngine) -> bytes:
    """The metrics in Prometheus' text format, with the orders counted now."""
    async with engine.connect() as connection:
        counts = (await connection.execute(select(Order.status, func.count()).group_by(Order.status))).all()
    ORDERS.clear()
    for state, count in counts:
        ORDERS.labels(state=str(getattr(state, "value", state))).set(count)
    return generate_latest(REGISTRY)
