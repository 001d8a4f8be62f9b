"""Opt-in tests: left out of a plain ``pytest`` run unless asked for by marker.

* ``phoenix``: the end-to-end test against Arize Phoenix (``-m phoenix``, run by ``.ci/run``;
  it installs Phoenix in a virtualenv of its own on first use).
* ``langgraph_api``: the official SDK's calls side by side on LangGraph's own dev server
  (``-m langgraph_api``, run by ``.ci/run``; it installs that server in a virtualenv of its own
  on first use).
* ``server_processes``: the API server tests that start several server or worker processes
  (``-m server_processes``, run by ``.ci/run`` as a step of its own).
* ``browser``: the run page driven in Chromium (``-m browser``, run by ``.ci/run``, which
  installs Chromium when missing).
* ``corpus_passes``: the LangGraph corpus's second and third comparisons of every program
  (through ``astream_events``, and as one stream of every mode), ``-m corpus_passes``, run by
  ``.ci/run`` as a step of its own; a plain run compares each program as written.
* ``server_load``: the HTTP server's load test at full size (``-m server_load``, or
  ``REWIND_SERVER_LOAD=1``, which also makes the fuzz test run more examples).
"""

from __future__ import annotations

import os

import pytest

OPT_IN = {
    "faults": None,
    "slow": None,
    "phoenix": None,
    "langgraph_api": None,
    "server_processes": None,
    "server_load": "REWIND_SERVER_LOAD",
    "browser": None,
    "corpus_passes": None,
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A test with opt-in markers runs when one of them is asked for (a crash test of the
    # server's workers is both server_processes and slow: either step may run it).
    asked = config.getoption("markexpr") or ""
    enabled = {
        marker
        for marker, variable in OPT_IN.items()
        if marker in asked or (variable and os.environ.get(variable) == "1")
    }
    kept, left_out = [], []
    for item in items:
        markers = {marker for marker in OPT_IN if item.get_closest_marker(marker)}
        (left_out if markers and not markers & enabled else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept
