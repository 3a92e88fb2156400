"""What an operator watches: routing lag and backlog, failed, held and deferred sends, the brakes
in force, in `/healthz` (JSON) and `/metrics` (Prometheus text, prometheus-client).

The send counts are read from the store at most every `COUNTS_SECONDS` (10 s) per process, so
neither a busy scraper nor a flood of unauthenticated `/healthz` requests loads the database.

Routing lag is how long routing has made no progress while events wait: 0 when nothing waits,
else the seconds since it last routed something (or since it started failing).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from engine.store.controls import SENDS
from engine.store.send_counts import SendCounts
from server.api.auth import require_token
from server.web.state import WebState

__all__ = ["COUNTS_SECONDS", "OperatorView", "router"]

COUNTS_SECONDS = 10.0

router = APIRouter(tags=["health"])


def _moment(text: object) -> datetime | None:
    return datetime.fromisoformat(text) if isinstance(text, str) else None


class OperatorView:
    """The numbers of one API process, with the store's counts cached for `COUNTS_SECONDS`."""

    def __init__(self, state: WebState) -> None:
        self.state = state
        self._counts: tuple[float, SendCounts, dict[str, tuple[str, datetime]]] | None = None

    async def refresh(self) -> tuple[SendCounts, dict[str, tuple[str, datetime]]]:
        cached = self._counts
        if cached is None or time.monotonic() - cached[0] > COUNTS_SECONDS:
            counts = await asyncio.to_thread(self.state.store.send_counts)
            controls = await asyncio.to_thread(self.state.store.controls)
            cached = self._counts = (time.monotonic(), counts, controls)
        return cached[1], cached[2]

    def routing_lag_seconds(self) -> float:
        """How long routing has made no progress while events wait; while only intents wait for
        Temporal, how long the oldest has waited."""
        status = self.state.dispatcher.status()
        if not status["backlog"]:
            return float(status.get("oldest_intent_age_seconds") or 0.0)
        since = _moment(status["failing_since"]) or _moment(status["last_routed_at"])
        return max(0.0, (datetime.now(UTC) - since).total_seconds()) if since else 0.0

    async def health(self) -> dict[str, Any]:
        counts, controls = await self.refresh()
        return {
            "routing_lag_seconds": round(self.routing_lag_seconds(), 3),
            "sends": asdict(counts),
            "stopped": {"sends": SENDS in controls,
                        "paused_playbooks": sorted(name.removeprefix("playbook:") for name in controls
                                                   if name != SENDS)},
        }


class _Collector(Collector):
    def __init__(self, view: OperatorView, counts: SendCounts, controls: dict[str, tuple[str, datetime]]) -> None:
        self.view, self.counts, self.controls = view, counts, controls

    def collect(self) -> Iterator[GaugeMetricFamily]:
        status = self.view.state.dispatcher.status()
        yield GaugeMetricFamily("playbook_routing_backlog", "Stored events waiting to be routed",
                                value=status["backlog"])
        yield GaugeMetricFamily("playbook_routing_lag_seconds", "Seconds routing has made no progress while "
                                "events wait (0 when none wait)", value=self.view.routing_lag_seconds())
        yield GaugeMetricFamily("playbook_drain_backlog", "Journey starts and signals routed, waiting to be "
                                "carried out on Temporal", value=status.get("drain_backlog") or 0)
        yield GaugeMetricFamily("playbook_drain_oldest_seconds", "Seconds the oldest start or signal has waited "
                                "for Temporal (0 when none waits)", value=status.get("oldest_intent_age_seconds") or 0)
        yield GaugeMetricFamily("playbook_drain_parked", "Journey starts and signals Temporal refused too often, "
                                "parked until an operator retries or drops them", value=status.get("parked") or 0)
        yield GaugeMetricFamily("playbook_drain_not_loaded", "Journey starts and signals carried out for a playbook "
                                "no longer loaded", value=status.get("not_loaded") or 0)
        yield GaugeMetricFamily("playbook_routing_refused_batches", "Batches refused (503) since the process "
                                "started, the backlog being full", value=status["refused"])
        messages = GaugeMetricFamily("playbook_messages", "Messages recorded, by status", labels=["status"])
        for name in ("sent", "failed", "suppressed", "undelivered"):
            messages.add_metric([name], getattr(self.counts, name))
        yield messages
        yield GaugeMetricFamily("playbook_sends_held", "Send steps held by a pause or the send stop",
                                value=self.counts.held)
        yield GaugeMetricFamily("playbook_sends_deferred", "Send steps deferred by the relay's send-rate limit",
                                value=self.counts.deferred)
        yield GaugeMetricFamily("playbook_sends_stopped", "1 while every send is stopped",
                                value=1 if SENDS in self.controls else 0)
        yield GaugeMetricFamily("playbook_playbooks_paused", "Playbooks paused now",
                                value=sum(1 for name in self.controls if name != SENDS))


@router.get("/metrics", summary="Prometheus metrics: routing, sends, brakes", dependencies=[Depends(require_token)])
async def metrics(request: Request) -> Response:
    view = request.app.state.operator_view
    assert isinstance(view, OperatorView)
    counts, controls = await view.refresh()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(view, counts, controls))
    return Response(generate_latest(registry), media_type="text/plain; version=0.0.4; charset=utf-8")
