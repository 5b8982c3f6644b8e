"""Prometheus metrics of one bot process (names start with `modeldesk_`).

Each bot owns its registry, so several bots in one test process never share counters. Counters
are bumped by the adapter as things happen; queue depth and gateway latency are read at scrape
time from the live objects, so they can never go stale.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.core.types import Answer

# Seconds. Computed answers take milliseconds, the bundled model seconds, a queued answer a
# minute or more: the buckets span all three.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0,
                   160.0)
REINDEX_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
# Answer.timings key -> stage label
STAGES = {"queue_ms": "queue", "retrieve_ms": "retrieve", "first_token_ms": "first_token",
          "total_ms": "total"}
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class BotMetrics:
    """The metrics an operator scrapes from `/metrics`."""

    def __init__(self, queue_depth: Callable[[], float], gateway_latency: Callable[[], float]
                 ) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.answers = Counter("modeldesk_answers", "Answers delivered, by mode and command",
                               ["mode", "command"], registry=r)
        self.not_covered = Counter("modeldesk_not_covered_answers",
                                   "Questions the knowledge base does not cover", registry=r)
        self.latency = Histogram("modeldesk_answer_stage_seconds",
                                 "Time to each stage of an answer", ["stage"],
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.rate_limited = Counter("modeldesk_rate_limited_requests",
                                    "Questions refused by the per-member rate limit",
                                    ["command"], registry=r)
        self.votes = Counter("modeldesk_votes", "Votes recorded", ["vote"], registry=r)
        self.reindex_runs = Counter("modeldesk_reindex_runs", "Reindex runs, by outcome",
                                    ["outcome"], registry=r)
        self.reindex_seconds = Histogram("modeldesk_reindex_duration_seconds",
                                         "Duration of reindex runs", buckets=REINDEX_BUCKETS,
                                         registry=r)
        queue = Gauge("modeldesk_queue_depth", "Questions waiting for the model", registry=r)
        queue.set_function(queue_depth)
        gateway = Gauge("modeldesk_gateway_latency_seconds",
                        "Discord gateway heartbeat latency (NaN before the first beat)",
                        registry=r)
        gateway.set_function(lambda: _finite_or_nan(gateway_latency()))

    def answered(self, answer: Answer, command: str) -> None:
        self.answers.labels(mode=answer.mode, command=command).inc()
        if answer.mode == "unknown":
            self.not_covered.inc()
        for key, stage in STAGES.items():
            value = answer.timings.get(key)
            if value is not None:
                self.latency.labels(stage=stage).observe(float(value) / 1000.0)

    def voted(self, value: int) -> None:
        self.votes.labels(vote="up" if value > 0 else "down").inc()

    def reindexed(self, seconds: float, ok: bool) -> None:
        self.reindex_runs.labels(outcome="ok" if ok else "failed").inc()
        if ok:
            self.reindex_seconds.observe(seconds)

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric."""
        return generate_latest(self.registry)


def _finite_or_nan(value: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) else math.nan
