"""Side by side with LangGraph: the stream-mode corpus, run live on both engines.

The probe graphs of ``corpus/`` are written for LangGraph. Each capture of each probe (the
chunks of every stream mode and combination of modes, ``astream_events``, and ``invoke`` +
``get_state`` + ``get_state_history``: see ``corpus/capture.py``) is run on real LangGraph 1.2.22
and on rewind (through the ``langgraph.`` → ``rewind.`` import rewrite, in this process), and the
two documents must be identical once ids and timestamps are normalised.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.runtime.corpus import capture as corpus
from tests.runtime.side_by_side import harness

GRAPHS = corpus.graph_files()

# Captures of the probes that are not compared, and why.
NOT_COMPARED = {
    ("g01_linear", "checkpoints.durability_sync"): (
        "LangGraph 1.2.22 raises an internal AttributeError there (a library bug)"
    ),
    ("g01_linear", "state.durability_exit"): (
        'with durability="exit" LangGraph persists only the last checkpoint, so its history has '
        "one entry; rewind writes the whole log at exit and keeps the full history (what is "
        "streamed is the same, and checkpoints.durability_exit is compared)"
    ),
}

# The exceptions LangGraph raises in the probes that mean it to (any other means the capture
# itself went wrong, which both engines could do alike).
RAISES = {
    "g04_loop_recursion": {"GraphRecursionError"},
    "g11_errors_retry": {"ValueError", "TransientError", "RuntimeError"},
}


def _cases() -> list[Any]:
    return [
        pytest.param(path, capture, id=f"{path.stem}/{capture.name}")
        for path in GRAPHS
        for capture in corpus.captures(path)
        if (path.stem, capture.name) not in NOT_COMPARED
    ]


CASES = _cases()


def _errors(doc: dict[str, Any]) -> set[str]:
    """The exceptions the calls raised (not ``get_state``: it raises without a checkpointer)."""
    calls = [call for scenario in doc["scenarios"] for call in scenario["calls"]]
    return {call["error"]["type"] for call in calls if call.get("error")}


@pytest.mark.parametrize(("path", "capture"), CASES)
def test_capture_is_identical_on_both_engines(path: Path, capture: corpus.Capture) -> None:
    reference = corpus.run_capture(path, "langgraph", capture)
    assert _errors(reference) <= RAISES.get(path.stem, set())
    candidate = corpus.run_capture(path, "rewind", capture)
    diff = harness.first_diff(reference, candidate)
    assert diff is None, harness.explain_diff(reference, candidate, diff)


def test_every_capture_of_every_probe_is_compared() -> None:
    """12 probes; every stream mode, all seven together, ``version="v2"``, ``astream_events``
    and ``state`` for each, ``subgraphs=True`` for the probe of subgraphs, and the probes' own
    extra captures: 164 in all."""
    assert [p.stem[:3] for p in GRAPHS] == [f"g{n:02}" for n in range(1, 13)]
    names = {(p.stem, c.name) for p, c in (case.values for case in CASES)}
    base = ["default", *corpus.MODES, "combined_all", "v2_parts", "events_v2", "state"]
    assert all((p.stem, name) in names for p in GRAPHS for name in base)
    assert {f"{m}.subgraphs" for m in corpus.MODES} <= {c for g, c in names if g == "g08_subgraph"}
    assert len(CASES) == 164
