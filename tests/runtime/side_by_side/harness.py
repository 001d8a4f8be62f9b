"""Side by side: one graph file written for LangGraph, run on real LangGraph and on rewind.

rewind promises that a LangGraph graph file whose imports are rewritten ``langgraph.`` →
``rewind.`` runs unchanged and gives the same results. This harness holds it to that, in one
process: it loads a graph module twice under two module names, the second time with every
``langgraph*`` import served by the matching ``rewind*`` module (``rewind_imports``), runs every
scenario on both engines, records what LangGraph users see (what ``invoke``/``ainvoke`` return
or raise, ``get_state`` and ``get_state_history`` after each call), normalises ids and
timestamps (``Normalizer``), and compares. The stream-mode corpus (``tests/runtime/corpus``)
runs its probe graphs through the same pieces.

Graph module contract (``graphs/sbs_NN_<feature>.py``):

* ``build(checkpointer)`` returns a compiled graph, or a functional-API ``@entrypoint`` (the
  harness passes the engine's own ``InMemorySaver``, or ``None`` for a scenario with
  ``"checkpointer": False``);
* ``SCENARIOS``: a list of ``{"name", "calls": [call, ...]}``, optionally ``"config"`` (merged into
  every call's config; each scenario runs on a fresh graph and its own ``thread-<name>`` thread),
  ``"checkpointer": False`` and ``"build"`` (the name of another function of the module to build
  the scenario's graph with, instead of ``build``). A call is
  ``{"input", "config"?, "kwargs"?, "api"?}``; ``api`` is
  ``"invoke"`` (default), ``"ainvoke"``, ``"stream"`` or ``"astream"``, or a state update:
  ``"update_state"``, ``"bulk_update_state"`` or their async forms, whose ``input`` is the
  values (the super-steps) and whose ``kwargs`` are ``as_node=...``/``task_id=...``
  (these are made as they are by the events test too); ``kwargs`` go to the
  call (``context=...``; for a stream ``stream_mode=...`` (one mode or a list),
  ``subgraphs=True``, ``version=...``), and every chunk a stream yields is recorded in order,
  with its type, as the call's ``chunks``;
* a call may say ``"at": [node, ...]``: it is made at the thread's newest checkpoint whose
  ``next`` is those nodes (time travel: its ``checkpoint_id`` in the call's config);
* a call may say ``"racy_ids": True``: the ids of messages in its chunks (or its
  ``astream_events`` events) that are null or a uuid are masked (LangGraph's reducer gives
  them in place, racing with the stream);
* a call may say ``"unordered": True``: the results of a step's parallel tasks in its
  ``tasks`` chunks, or its ``updates`` chunks of a several-mode stream, are compared as a
  multiset (LangGraph streams them as its threads finish);
* optional ``reset()``, called before each scenario;
* optional ``EVENTS_COMPARABLE = False`` (with a comment saying why): the module's scenarios are
  not also compared through ``astream_events`` (the test ``test_events_are_identical...``);
  likewise ``MODES_COMPARABLE = False``: not also made as streams of every mode (the test
  ``test_every_stream_mode_is_identical...``), or, for one scenario, ``"streams": False``
  (likewise ``"events": False``: that scenario's calls are made as written in the
  ``astream_events`` pass);

The module is imported with the alias finder active, and so is every call of it (lazy imports
inside nodes resolve to the same engine); the finder and the aliased ``langgraph*`` entries of
``sys.modules`` are removed afterwards and the real ones put back.

Ids are numbered per scenario (a difference in one scenario does not renumber the next ones).
Besides the results, each engine's document lists what the run left behind (warnings, objects
deleted unclosed, asyncio tasks destroyed while pending), collected before the run returns so
that they are blamed on the graph that caused them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as _dt
import enum
import gc
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import logging
import re
import sys
import time
import warnings
import weakref
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import UUID

import pydantic
from langchain_core.messages import BaseMessage

from tests.runtime.side_by_side.diffs import all_diffs, explain_diff, first_diff

__all__ = [
    "ENGINES",
    "GRAPHS_DIR",
    "Normalizer",
    "all_diffs",
    "check_engine",
    "compare_graph",
    "engine_imports",
    "error_record",
    "explain_diff",
    "first_diff",
    "graph_files",
    "graph_module",
    "mark_racy",
    "rewind_imports",
    "run_build_case",
    "run_graph",
    "ser",
    "side_effects",
    "sig",
]

ENGINES = ("langgraph", "rewind")
GRAPHS_DIR = Path(__file__).resolve().parent / "graphs"


def graph_files() -> list[Path]:
    """The graph modules, in name order."""
    return sorted(GRAPHS_DIR.glob("sbs_[0-9][0-9]_*.py"))


def events_comparable(path: Path) -> bool:
    """Whether the module's ``astream_events`` output can be compared: ``False`` where the
    module says ``EVENTS_COMPARABLE = False`` (read without importing it), with its reason."""
    return _flag(path, "EVENTS_COMPARABLE")


def modes_comparable(path: Path) -> bool:
    """Whether the module's calls made as a stream of every mode can be compared: ``False``
    where the module says ``MODES_COMPARABLE = False``, with its reason."""
    return _flag(path, "MODES_COMPARABLE")


def _flag(path: Path, name: str) -> bool:
    """A module's boolean flag ``name`` (``True`` unless it says otherwise), read without
    importing it."""
    import ast

    for node in ast.parse(path.read_text()).body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
            and isinstance(node.value, ast.Constant)
        ):
            return bool(node.value.value)
    return True


# --------------------------------------------------------------------------------------------
# the import rewrite
# --------------------------------------------------------------------------------------------


def _is_langgraph(name: str) -> bool:
    return name == "langgraph" or name.startswith("langgraph.")


class _RewindAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves ``langgraph[.x.y]`` with the module ``rewind[.x.y]``."""

    def __init__(self) -> None:
        self._own_specs: dict[str, importlib.machinery.ModuleSpec | None] = {}

    def find_spec(
        self, fullname: str, path: Any = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if _is_langgraph(fullname):
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module("rewind" + spec.name[len("langgraph") :])
        self._own_specs[spec.name] = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # The import system stamped the alias spec on the rewind module: give it its own back.
        alias = module.__spec__
        if alias is not None and alias.name in self._own_specs:
            module.__spec__ = self._own_specs.pop(alias.name)


@contextlib.contextmanager
def rewind_imports() -> Iterator[None]:
    """Within the block, ``import langgraph.x`` gives ``rewind.x``; afterwards, real LangGraph."""
    saved = {name: sys.modules.pop(name) for name in [n for n in sys.modules if _is_langgraph(n)]}
    finder = _RewindAlias()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        for name in [n for n in sys.modules if _is_langgraph(n)]:
            del sys.modules[name]
        sys.modules.update(saved)


def engine_imports(engine: str) -> contextlib.AbstractContextManager[None]:
    """Within the block, ``langgraph*`` imports are served by ``engine``."""
    if engine == "rewind":
        return rewind_imports()
    if engine == "langgraph":
        return contextlib.nullcontext()
    raise ValueError(f"unknown engine {engine!r}")


@contextlib.contextmanager
def graph_module(path: Path, engine: str, *, name: str | None = None) -> Iterator[ModuleType]:
    """``path`` imported as its own module for ``engine`` (registered while it is in use, so
    that type hints and the event codec can find its classes by module name); ``name`` defaults
    to one per engine, ``_sbs_<engine>_<stem>``."""
    name = name or f"_sbs_{engine}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(name, None)


def check_engine(obj: Any, engine: str) -> None:
    """Guard against a leaking alias: the object must come from the engine under test."""
    origin = type(obj).__module__.split(".")[0]
    if origin != engine:
        raise AssertionError(f"expected a {engine} object, got {type(obj).__module__}")


# --------------------------------------------------------------------------------------------
# serialisation (engine classes recognised by name and shape)
# --------------------------------------------------------------------------------------------


def ser(o: Any) -> Any:
    """A JSON-ready rendering of ``o`` that keeps what a user can observe."""
    if o is None or isinstance(o, bool | int | float | str):
        return o
    if isinstance(o, UUID):
        return str(o)
    if isinstance(o, _dt.datetime | _dt.date):
        return o.isoformat()
    if isinstance(o, enum.Enum):
        return ser(o.value)
    if isinstance(o, bytes | bytearray):
        return {"__bytes__": len(o)}
    if isinstance(o, BaseMessage):
        return {"__class__": type(o).__name__, **ser(o.model_dump())}
    if isinstance(o, BaseException):
        return {"__class__": type(o).__name__, "message": str(o)}
    if type(o).__name__ == "Send" and hasattr(o, "node") and hasattr(o, "arg"):
        return {"__class__": "Send", "node": o.node, "arg": ser(o.arg)}
    if isinstance(o, pydantic.BaseModel):
        return {"__class__": type(o).__name__, **ser(o.model_dump())}
    if isinstance(o, tuple) and hasattr(o, "_asdict"):  # NamedTuple (StateSnapshot, PregelTask)
        return {"__class__": type(o).__name__, **{k: ser(v) for k, v in o._asdict().items()}}
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return {
            "__class__": type(o).__name__,
            **{f.name: ser(getattr(o, f.name)) for f in dataclasses.fields(o)},
        }
    if isinstance(o, Mapping):
        return {k if isinstance(k, str) else str(k): ser(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [ser(x) for x in o]
    if isinstance(o, set | frozenset):
        return sorted((ser(x) for x in o), key=lambda x: json.dumps(x, sort_keys=True, default=str))
    if callable(o):
        return {"__callable__": getattr(o, "__qualname__", type(o).__name__)}
    return {"__class__": type(o).__name__, "repr": repr(o)}


def sig(o: Any, depth: int = 3) -> str:
    """The type of a value, by name (a dict and a model instance differ); a plain tuple's
    items' types too, ``depth`` levels down (JSON keeps no difference between tuple and list)."""
    if depth > 0 and isinstance(o, tuple) and not hasattr(o, "_asdict"):
        return f"tuple[{', '.join(sig(x, depth - 1) for x in o)}]" if o else "tuple[]"
    return type(o).__name__


RACY_ID = "<racy: null or the uuid add_messages assigns later>"
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def mark_racy(o: Any, in_result: bool = False) -> Any:
    """LangGraph persists a task's pending writes racing with ``add_messages`` assigning ids in
    place, so in ``PregelTask.result`` the id of a message a node returned without one is null in
    some runs and a uuid in others; mask it."""
    if isinstance(o, dict):
        if (
            in_result
            and "content" in o
            and "type" in o
            and (o.get("id") is None or UUID_RE.fullmatch(str(o.get("id"))))
        ):
            o = {**o, "id": RACY_ID}
        return {
            k: mark_racy(v, in_result or (k == "result" and o.get("__class__") == "PregelTask"))
            for k, v in o.items()
        }
    if isinstance(o, list):
        return [mark_racy(x, in_result) for x in o]
    return o


def _racy_message_ids(o: Any) -> Any:
    """A streamed chunk with the ids of its messages that are null or a uuid masked, as
    :func:`mark_racy` masks a task result's: LangGraph streams a task's update before its
    step's reducer gives the messages in it ids, in place (a step of parallel tasks streams the
    first finished task's chunk with null ids, a step of one task with the ids). For a call
    marked ``"racy_ids"``."""
    return mark_racy(o, in_result=True)


# --------------------------------------------------------------------------------------------
# normalisation
# --------------------------------------------------------------------------------------------

HEX32_RE = re.compile(r"(?<![0-9A-Za-z<:-])[0-9a-f]{32}(?![0-9A-Za-z-])")
TS_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)?")
VERSION_RE = re.compile(r"\b(\d{32})\.\d[0-9.]*")
ADDR_RE = re.compile(r"0x[0-9a-fA-F]{6,}")
ELAPSED_RE = re.compile(r"\(elapsed: \d+\.\d{3}s\)")
"""How long a timed-out attempt ran, in a ``NodeTimeoutError``'s message (it varies)."""
TASKISH_KEYS = {"triggers", "result", "error", "interrupts", "path", "state"}


class Normalizer:
    """Uuids → ``<kind:N>`` by first appearance, timestamps → ``<ts>``, addresses → ``0x<addr>``,
    a timed-out attempt's elapsed time → ``<s>``.

    The same raw id always gets the same placeholder within one document, so cross references
    (a checkpoint id and the parent_config pointing at it) survive normalisation.
    """

    def __init__(self) -> None:
        self.map: dict[str, str] = {}
        self.counters: dict[str, int] = {}
        self.force: str | None = None

    def _label(self, raw: str, kind: str) -> str:
        if raw not in self.map:
            self.counters[kind] = self.counters.get(kind, 0) + 1
            self.map[raw] = f"<{kind}:{self.counters[kind]}>"
        return self.map[raw]

    def _uuid_kind(self, s: str, start: int, key: str | None, parent: Any) -> str:
        if self.force:
            return self.force
        if key in ("checkpoint_id", "parent_checkpoint_id"):
            return "ckpt"
        if key in ("run_id", "parent_run_id", "parent_ids"):
            return "run"
        if s[:start].endswith("lc_run--") or s[:start].endswith("run-"):
            return "run"
        if (start > 0 and s[start - 1] == ":") or key in ("task_id", "__pregel_task_id"):
            return "task"
        if key == "id" and isinstance(parent, dict):
            if "name" in parent and TASKISH_KEYS & parent.keys():
                return "task"
            if "content" in parent and "type" in parent:
                return "msg"
        if key == "thread_id":
            return "thread"
        return "uuid"

    def norm_str(self, s: str, key: str | None = None, parent: Any = None) -> str:
        s = VERSION_RE.sub(lambda m: m.group(1) + ".<rand>", s)
        s = TS_RE.sub("<ts>", s)
        s = ADDR_RE.sub("0x<addr>", s)
        s = ELAPSED_RE.sub("(elapsed: <s>)", s)

        def _u(m: re.Match[str]) -> str:
            raw = m.group(0).lower()
            if raw in self.map:
                return self.map[raw]
            return self._label(raw, self._uuid_kind(s, m.start(), key, parent))

        s = UUID_RE.sub(_u, s)

        def _h(m: re.Match[str]) -> str:
            raw = m.group(0)
            if raw.isdigit():
                return raw
            kind = "hex"
            if isinstance(parent, dict) and (
                parent.get("__class__") == "Interrupt"
                or {"value", "response_schema"} <= parent.keys()
            ):
                kind = "intr"
            if key == "interrupt_id":
                kind = "intr"
            return self.map[raw] if raw in self.map else self._label(raw, kind)

        return HEX32_RE.sub(_h, s)

    def norm(self, o: Any, key: str | None = None, parent: Any = None) -> Any:
        if isinstance(o, str):
            return self.norm_str(o, key, parent)
        if isinstance(o, dict):
            out = {}
            for k, v in o.items():
                nk = self.norm_str(k, None, o) if isinstance(k, str) else k
                if k in ("checkpoint_map", "parents") and isinstance(v, dict):
                    sub = {}
                    for kk, vv in v.items():
                        nkk = self.norm_str(kk, None, v) if isinstance(kk, str) else kk
                        self.force = "ckpt"
                        try:
                            sub[nkk] = self.norm(vv, kk, v)
                        finally:
                            self.force = None
                    out[nk] = sub
                    continue
                out[nk] = self.norm(v, k, o)
            return out
        if isinstance(o, list):
            return [self.norm(x, key, parent) for x in o]
        if key == "timestamp" and isinstance(o, int | float) and not isinstance(o, bool):
            return "<ms>"
        return o


# --------------------------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------------------------


def error_record(exc: BaseException) -> dict[str, Any]:
    """An exception as a user sees it: class name (not module), message, and notes
    (LangGraph notes which task raised: "During task with name 'x' and id '...'")."""
    error: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc)}
    notes = getattr(exc, "__notes__", None)
    if notes:
        error["notes"] = [str(n) for n in notes]
    return error


def _merge_config(base: dict[str, Any], extra: dict[str, Any] | None) -> dict[str, Any]:
    config = {**base, **(extra or {})}
    config["configurable"] = {
        **base.get("configurable", {}),
        **(extra or {}).get("configurable", {}),
    }
    return config


UPDATES = ("update_state", "aupdate_state", "bulk_update_state", "abulk_update_state")
"""The state-update methods a call may make (``api``)."""


def _run_call(graph: Any, config: dict[str, Any], call: dict[str, Any]) -> dict[str, Any]:
    api = call.get("api", "invoke")
    kwargs = call.get("kwargs", {})
    inp = call["input"]
    if "at" in call:  # time travel: the newest checkpoint of the thread whose next is this
        wanted = tuple(call["at"])
        past = next(s for s in graph.get_state_history(config) if tuple(s.next) == wanted)
        config = _merge_config(config, {"configurable": dict(past.config["configurable"])})
    rec: dict[str, Any] = {
        "api": api,
        "input": ser(inp),
        "config": ser(config),
        "kwargs": ser(kwargs),
        "return": None,
        "error": None,
    }
    if call.get("unordered"):
        rec["unordered"] = True
    try:
        if api == "invoke":
            out = graph.invoke(inp, config, **kwargs)
        elif api == "ainvoke":
            out = asyncio.run(graph.ainvoke(inp, config, **kwargs))
        elif api == "astream_events":

            async def events() -> list[Any]:
                stream = graph.astream_events(inp, config, version="v2", **kwargs)
                events = [ser(event) async for event in stream]
                return _racy_message_ids(events) if call.get("racy_ids") else events

            out = asyncio.run(events())
        elif api in UPDATES:
            made = getattr(graph, api)(config, inp, **kwargs)
            out = asyncio.run(made) if api.startswith("a") else made
        elif api in ("stream", "astream"):
            chunks: list[dict[str, Any]] = []
            rec["chunks"] = chunks  # recorded as they come: what came before an error counts
            _stream(graph, api, inp, config, kwargs, chunks)
            if call.get("racy_ids"):
                chunks[:] = [_racy_message_ids(c) for c in chunks]
            out = None
        else:
            raise ValueError(f"unknown api {api!r}")
        rec["return"] = {"t": sig(out), "v": ser(out)}
    except Exception as exc:  # whatever the engine raises is part of the comparison
        rec["error"] = error_record(exc)
    # Reading the state can raise too (no checkpointer; LangGraph validates a pydantic state
    # while preparing the next tasks): that is compared like any other outcome.
    try:
        rec["get_state"] = mark_racy(ser(graph.get_state(config)))
    except Exception as exc:
        rec["get_state"] = {"error": error_record(exc)}
    try:
        rec["get_state_history"] = [mark_racy(ser(s)) for s in graph.get_state_history(config)]
    except Exception as exc:
        rec["get_state_history"] = {"error": error_record(exc)}
    return rec


def _stream(
    graph: Any,
    api: str,
    inp: Any,
    config: dict[str, Any],
    kwargs: dict[str, Any],
    chunks: list[dict[str, Any]],
) -> None:
    """Every chunk of ``stream``/``astream``, each serialised as it arrives (a later mutation
    of an object it holds must not show)."""
    if api == "stream":
        for chunk in graph.stream(inp, config, **kwargs):
            chunks.append({"t": sig(chunk), "v": ser(chunk)})
        return

    async def consume() -> None:
        async for chunk in graph.astream(inp, config, **kwargs):
            chunks.append({"t": sig(chunk), "v": ser(chunk)})

    asyncio.run(consume())


STREAM_MODES = ["values", "updates", "messages", "custom", "debug", "tasks", "checkpoints"]
"""Every stream mode but ``events``, which ``astream_events`` covers."""

MODES = "every_stream_mode"
"""The pass that makes every call a stream of :data:`STREAM_MODES` together, with
subgraphs, as v2 parts (each its own type, namespace and data)."""


def _through(call: dict[str, Any], api: str | None) -> dict[str, Any]:
    """``call`` made through ``api`` instead of its own (a stream's ``version``, the version of
    its parts, is not passed on to ``astream_events``); with :data:`MODES`, a stream (async
    for ``ainvoke``/``astream``) of every mode, its tasks' results compared as a multiset
    within their step (LangGraph's threads finish parallel tasks in any order)."""
    if api is None or call.get("api") in UPDATES:
        return call
    kwargs = call.get("kwargs", {})
    if api == MODES:
        kwargs = {
            **{k: v for k, v in kwargs.items() if k not in ("stream_mode", "subgraphs", "version")},
            "stream_mode": STREAM_MODES,
            "subgraphs": True,
            "version": "v2",
        }
        made = "astream" if call.get("api") in ("ainvoke", "astream") else "stream"
        return {**call, "api": made, "kwargs": kwargs, "unordered": True}
    if api == "astream_events" and call.get("api") in ("stream", "astream"):
        kwargs = {k: v for k, v in kwargs.items() if k != "version"}
    return {**call, "api": api, "kwargs": kwargs}


def _run_scenario(
    module: ModuleType, scenario: dict[str, Any], engine: str, api: str | None
) -> dict[str, Any]:
    memory = importlib.import_module("langgraph.checkpoint.memory")
    if hasattr(module, "reset"):
        module.reset()
    checkpointer = memory.InMemorySaver() if scenario.get("checkpointer", True) else None
    if checkpointer is not None:
        check_engine(checkpointer, engine)
    graph = getattr(module, scenario.get("build", "build"))(checkpointer)
    check_engine(graph, engine)
    base = _merge_config(
        {"configurable": {"thread_id": f"thread-{scenario['name']}"}}, scenario.get("config")
    )
    # A scenario saying "streams": False is made as written in the every-mode pass too, one
    # saying "events": False in the astream_events pass (its module says why).
    if (api == MODES and not scenario.get("streams", True)) or (
        api == "astream_events" and not scenario.get("events", True)
    ):
        api = None
    calls = [
        _run_call(graph, _merge_config(base, c.get("config")), _through(c, api))
        for c in scenario["calls"]
    ]
    return {"scenario": scenario["name"], "calls": calls}


def _thread_event_loop() -> Any:
    """The event loop set for this thread, without creating one (None if unset)."""
    local = getattr(asyncio.get_event_loop_policy(), "_local", None)
    return getattr(local, "_loop", None)


def _drop_stray_event_loop(before: Any, seen: list[str]) -> None:
    """Something made this thread an event loop and left it set (aiosqlite's ``__del__`` does,
    via ``asyncio.get_event_loop()``, for a connection deleted unclosed): unset it and wait for
    it to be collected (the connection's worker thread holds it until it stops), so that its
    "unclosed event loop" warning is this run's and not the next ``asyncio.run``'s."""
    stray = _thread_event_loop()
    if stray is before:
        return
    asyncio.set_event_loop(before)
    gone = weakref.ref(stray)
    del stray
    deadline = time.monotonic() + 2.0
    while gone() is not None and time.monotonic() < deadline:
        time.sleep(0.005)
        gc.collect()
    if gone() is not None:
        seen.append("an event loop left set on the caller's thread is still referenced")


@contextlib.contextmanager
def side_effects() -> Iterator[list[str]]:
    """What a run leaves behind besides its results, compared like them: warnings (including
    the ResourceWarning of a connection never closed), exceptions raised where nothing can catch
    them (``__del__``), and asyncio's errors (a task destroyed while pending). Garbage is
    collected before the block ends, so what the run's objects leave is seen here, in the test
    that ran them, rather than in whichever test happens to run at the next collection."""
    seen: list[str] = []
    previous_hook = sys.unraisablehook

    def unraisable(u: Any) -> None:
        seen.append(f"unraisable {type(u.exc_value).__name__}: {u.exc_value}")

    class _Errors(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(f"asyncio log: {record.getMessage().splitlines()[0]}")

    handler = _Errors(logging.ERROR)
    asyncio_logger = logging.getLogger("asyncio")
    asyncio_logger.addHandler(handler)
    sys.unraisablehook = unraisable
    loop_before = _thread_event_loop()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                yield seen
            finally:
                gc.collect()
                _drop_stray_event_loop(loop_before, seen)
        seen.extend(f"warning {w.category.__name__}: {w.message}" for w in caught)
    finally:
        sys.unraisablehook = previous_hook
        asyncio_logger.removeHandler(handler)


def run_graph(path: Path, engine: str, api: str | None = None) -> dict[str, Any]:
    """Every scenario of the graph module at ``path`` on ``engine``, serialised, normalised;
    with ``api``, every call made through that API (``astream_events``: the events streamed)."""
    with side_effects() as leftovers:
        with engine_imports(engine), graph_module(path, engine) as module:
            scenarios = [_run_scenario(module, sc, engine, api) for sc in module.SCENARIOS]
        del module
    # One numbering per scenario (each has its own graph, saver and thread), so that a
    # difference in one scenario does not shift the placeholders of the next ones.
    return {
        "graph": path.stem,
        "scenarios": [_step_results_unordered(Normalizer().norm(sc)) for sc in scenarios],
        "warnings_and_leftovers": sorted(set(Normalizer().norm(leftovers))),
    }


def _a_result(value: Any) -> bool:
    """A chunk a task streams as it finishes: a ``tasks`` result, or an ``updates`` chunk of
    a stream of several modes (with ``checkpoints`` among them, they stay within their step),
    or, as a v2 part, either of those, a ``debug`` task result, or a ``messages`` chunk (a
    tool's message comes as its task ends)."""
    if isinstance(value, dict) and {"type", "ns", "data"} <= value.keys():
        data = value["data"]
        kind = data.get("type") if value["type"] == "debug" and isinstance(data, dict) else None
        return (
            value["type"] in ("updates", "messages")
            or (value["type"] == "tasks" and _a_result(data))
            or kind == "task_result"
        )
    if isinstance(value, dict):
        return "result" in value and "interrupts" in value
    return isinstance(value, list) and len(value) == 2 and value[0] == "updates"


def _step_results_unordered(scenario: dict[str, Any]) -> dict[str, Any]:
    """For a call marked ``"unordered"``: the results a step's parallel tasks stream as they
    finish (in whichever order LangGraph's threads finish them) are compared as a multiset:
    each run of consecutive results (see :func:`_a_result`) is sorted (after normalisation, so the
    ids numbered at the tasks' starts are the same on both engines). Ids first seen in such a
    run (a message id the finishing task made) are numbered in the order of its sorted
    chunks: the scenario's placeholders are renumbered by first appearance after sorting."""
    sorted_any = False
    for call in scenario["calls"]:
        chunks = call.get("chunks")
        if not call.get("unordered") or not chunks:
            continue
        out: list[Any] = []
        run: list[Any] = []
        for chunk in [*chunks, None]:
            value = chunk.get("v") if isinstance(chunk, dict) else None
            if _a_result(value):
                run.append(chunk)
                continue
            if len(run) > 1:
                sorted_any = True
                run.sort(key=_unnumbered)
            out += run
            run = []
            if chunk is not None:
                out.append(chunk)
        call["chunks"] = out
    return _renumbered(scenario) if sorted_any else scenario


PLACEHOLDER_RE = re.compile(r"<([a-z_]+):(\d+)>")
"""A normalised id (see :class:`Normalizer`)."""


def _unnumbered(chunk: Any) -> tuple[str, str]:
    """A chunk's sort key within a run of results: its JSON with placeholders' numbers
    masked (ids first seen in the run are numbered in the order the engine streamed it),
    then as it is (ids numbered before the run, as its tasks', tell equal results apart)."""
    text = json.dumps(chunk, sort_keys=True, default=str)
    return PLACEHOLDER_RE.sub(r"<\1>", text), text


def _renumbered(doc: Any) -> Any:
    """``doc`` with its placeholders numbered anew, per kind, by first appearance."""
    names: dict[str, str] = {}
    counts: dict[str, int] = {}

    def renumber(match: re.Match[str]) -> str:
        old = match.group(0)
        if old not in names:
            kind = match.group(1)
            counts[kind] = counts.get(kind, 0) + 1
            names[old] = f"<{kind}:{counts[kind]}>"
        return names[old]

    return json.loads(PLACEHOLDER_RE.sub(renumber, json.dumps(doc, default=str)))


def run_build_case(path: Path, engine: str, case: str) -> dict[str, Any]:
    """Call ``CASES[case]()`` of the module at ``path`` on ``engine``: it builds (and compiles) a
    graph; record what it raised, or the compiled graph's type and node names."""
    with engine_imports(engine), graph_module(path, engine) as module:
        try:
            graph = module.CASES[case]()
        except Exception as exc:
            return {"error": error_record(exc)}
        check_engine(graph, engine)
        return {"compiled": sig(graph), "nodes": sorted(graph.builder.nodes)}


# --------------------------------------------------------------------------------------------
# comparing (the diffs themselves: :mod:`tests.runtime.side_by_side.diffs`)
# --------------------------------------------------------------------------------------------


def compare_graph(
    path: Path, api: str | None = None
) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    """Run the module at ``path`` on both engines: (langgraph doc, rewind doc, first diff)."""
    reference = run_graph(path, "langgraph", api)
    candidate = run_graph(path, "rewind", api)
    return reference, candidate, first_diff(reference, candidate)
