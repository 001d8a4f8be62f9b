"""Side by side with LangGraph: the reference corpus's captures, run on rewind.

The corpus (``../shared/reference/langgraph``) holds what real LangGraph 1.2.22 returned for each
probe graph: ``invoke`` + ``get_state`` + ``get_state_history`` (``state``) and the chunks of each
stream mode. ``run_engine.py`` runs the same graph files on rewind through the ``langgraph.`` →
``rewind.`` import rewrite, and each capture must be identical once ids and timestamps are
normalised.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "langgraph"

# Every graph of the corpus.
MATCHING = [
    "g01_linear",
    "g02_reducers",
    "g03_parallel",
    "g04_loop_recursion",
    "g05_send_map_reduce",
    "g06_command",
    "g07_interrupt",
    "g08_subgraph",
    "g09_custom_writer",
    "g10_llm_tokens_tools",
    "g11_errors_retry",
    "g12_combined_modes",
]


def _compare_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("corpus_compare", REFERENCE / "compare.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rewind_outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (REFERENCE / "run_engine.py").exists():
        pytest.fail(f"the reference corpus is missing: expected it at {REFERENCE}")
    out = tmp_path_factory.mktemp("corpus")
    for graph in MATCHING:  # one process per graph: a graph rewind cannot import yet stops a run
        result = subprocess.run(
            [
                sys.executable,
                str(REFERENCE / "run_engine.py"),
                "rewind",
                str(REFERENCE / "graphs"),
                str(out),
                graph,
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, (graph, result.returncode, result.stderr[-2000:])
    return out


def _cases() -> list[tuple[str, str]]:
    """Every capture of every graph (a ``.astream`` file is the async twin of a capture whose
    sync output is compared already)."""
    return [
        (graph, file.name)
        for graph in MATCHING
        for file in sorted((REFERENCE / "outputs" / graph).glob("*.json"))
        if ".astream" not in file.name
    ]


@pytest.mark.parametrize(("graph", "capture"), _cases())
def test_capture_is_identical_to_langgraph(rewind_outputs: Path, graph: str, capture: str) -> None:
    compare = _compare_module()
    reference = json.loads((REFERENCE / "outputs" / graph / capture).read_text())
    candidate_file = rewind_outputs / graph / capture
    assert candidate_file.exists(), f"rewind produced no {capture} capture for {graph}"
    candidate = json.loads(candidate_file.read_text())
    reference.pop("api", None)
    candidate.pop("api", None)
    assert compare.first_diff(reference, candidate) is None
