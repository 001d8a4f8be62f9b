"""Helpers shared by the telemetry tests: run a scenario under the mirror, check traces."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from rewind.checkpoint.sqlite.aio import AsyncSqliteSaver
from rewind.telemetry import Mirror, attach_mirror
from tests.telemetry.graphs import Scenario
from tests.telemetry.receiver import ReceivedSpan


async def mirrored(
    saver: AsyncSqliteSaver, scenario: Scenario, exporter: Any, **options: Any
) -> tuple[list[str], Mirror]:
    """Run ``scenario`` with a mirror attached to the saver's store; the mirror is closed
    (flushed) when this returns."""
    store = await saver.log()
    mirror = attach_mirror(store, exporter=exporter, **options)
    await mirror.wait_ready()
    try:
        runs = await scenario(saver)
    finally:
        await mirror.aclose()
    return runs, mirror


def by_run(spans: list[ReceivedSpan]) -> dict[str, list[ReceivedSpan]]:
    out: dict[str, list[ReceivedSpan]] = defaultdict(list)
    for span in spans:
        out[str(span.attributes["rewind.run_id"])].append(span)
    return dict(out)


def assert_one_trace_per_run(spans: list[ReceivedSpan], runs: list[str]) -> None:
    """Every run is one trace of its own, with one root, no orphan and no duplicate span."""
    ids = Counter(s.span_id for s in spans)
    duplicates = [i for i, n in ids.items() if n > 1]
    assert not duplicates, f"duplicate spans: {duplicates}"
    grouped = by_run(spans)
    assert sorted(grouped) == sorted(runs)
    traces = set()
    for run_id, run_spans in grouped.items():
        trace_ids = {s.trace_id for s in run_spans}
        assert len(trace_ids) == 1, f"run {run_id} spans {len(trace_ids)} traces"
        traces |= trace_ids
        own = {s.span_id for s in run_spans}
        roots = [s for s in run_spans if not s.parent_id]
        assert [r.name.split()[0] for r in roots] == ["invoke_workflow"], roots
        orphans = [s.name for s in run_spans if s.parent_id and s.parent_id not in own]
        assert not orphans, f"run {run_id}: spans whose parent is not in its trace: {orphans}"
    assert len(traces) == len(runs), "two runs share a trace"
