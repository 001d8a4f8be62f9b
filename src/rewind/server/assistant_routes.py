"""The assistant routes: create, get, update, delete, search, count, versions, set_latest, and
the graph, schemas and subgraphs of an assistant's graph.

The records are :mod:`rewind.server.assistants`; what a graph looks like (nodes and edges, JSON
schemas of its input, output, state and context) is read from its builder here, as LangGraph's
server draws and describes its graphs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import typing
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from langchain_core.runnables import RunnableLambda
from langchain_core.runnables.graph import Graph
from pydantic import BaseModel, TypeAdapter, create_model
from sqlalchemy import select
from typing_extensions import is_typeddict

from rewind.log.schema import run_queue
from rewind.runtime.channels import channels_for_schema
from rewind.runtime.compiled import CompiledStateGraph
from rewind.runtime.graph import END, START
from rewind.server.assistants import AssistantStore, assistants_of, valid_id
from rewind.server.models import (
    AssistantCount,
    AssistantCreate,
    AssistantPatch,
    AssistantSearch,
    AssistantVersionChange,
    AssistantVersionsSearch,
)
from rewind.server.queued import QueuedRuns
from rewind.server.run_routes import _service
from rewind.server.runs import assistant_id_of
from rewind.server.service import ApiError, Service

__all__ = ["graph_json", "graph_schemas", "router"]


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """At start (the service is up): the assistants, each loaded graph's default one made."""
    service: Service = app.state.service
    store = AssistantStore(service.log, service.graphs)
    await store.ensure_defaults()
    app.state.assistants = store
    yield


router = APIRouter(lifespan=_lifespan)


@router.post("/assistants")
async def create_assistant(request: Request, body: AssistantCreate) -> JSONResponse:
    """A new assistant (or the existing one, with ``if_exists="do_nothing"``)."""
    made = await assistants_of(request.app).create(
        graph_id=body.graph_id,
        assistant_id=body.assistant_id,
        config=body.config,
        context=body.context,
        metadata=body.metadata,
        name=body.name,
        description=body.description,
        if_exists=body.if_exists,
    )
    return JSONResponse(made.json())


@router.post("/assistants/search")
async def search_assistants(request: Request, body: AssistantSearch) -> JSONResponse:
    """A page of the assistants that match, newest first unless sorted otherwise."""
    page, next_offset = await assistants_of(request.app).search(
        graph_id=body.graph_id,
        name=body.name,
        metadata=body.metadata,
        sort_by=body.sort_by,
        sort_order=body.sort_order,
        limit=body.limit,
        offset=body.offset,
    )
    found = [a.json() for a in page]
    if body.select:
        found = [{k: v for k, v in a.items() if k in body.select} for a in found]
    # LangGraph's headers: with a next page, the total is only known to exceed its offset.
    if next_offset is None:
        headers = {"x-pagination-total": str(len(found) + body.offset)}
    else:
        headers = {
            "x-pagination-total": str(next_offset + 1),
            "x-pagination-next": str(next_offset),
        }
    return JSONResponse(found, headers=headers)


@router.post("/assistants/count")
async def count_assistants(request: Request, body: AssistantCount) -> JSONResponse:
    """How many assistants match."""
    store = assistants_of(request.app)
    return JSONResponse(
        await store.count(graph_id=body.graph_id, name=body.name, metadata=body.metadata)
    )


@router.get("/assistants/{assistant_id}")
async def get_assistant(request: Request, assistant_id: str) -> JSONResponse:
    """One assistant, as it stands."""
    return JSONResponse((await assistants_of(request.app).get(assistant_id)).json())


@router.patch("/assistants/{assistant_id}")
async def update_assistant(
    request: Request, assistant_id: str, body: AssistantPatch
) -> JSONResponse:
    """A new version of an assistant, in use from now on."""
    updated = await assistants_of(request.app).update(
        assistant_id,
        graph_id=body.graph_id,
        config=body.config,
        context=body.context,
        metadata=body.metadata,
        name=body.name,
        description=body.description,
    )
    return JSONResponse(updated.json())


@router.delete("/assistants/{assistant_id}", status_code=204)
async def delete_assistant(
    request: Request, assistant_id: str, delete_threads: bool = False
) -> Response:
    """Remove an assistant and its versions, cancelling its runs in flight; with
    ``delete_threads``, the threads its runs started too."""
    store, service = assistants_of(request.app), _service(request)
    assistant_id = valid_id(assistant_id)
    if await store.find(assistant_id) is None:
        raise ApiError(404, f"Assistant with ID {assistant_id} not found")
    if delete_threads:
        for thread_id in await service.threads_of_assistant(assistant_id):
            await service.delete_thread(thread_id)
    await _cancel_runs(service, assistant_id)
    await store.delete(assistant_id)
    return Response(status_code=204)


async def _cancel_runs(service: Service, assistant_id: str) -> None:
    """Cancel the assistant's pending and running runs (they end ``interrupted``)."""
    runs = service.runs
    if isinstance(runs, QueuedRuns):  # any server process's: they are in the run queue
        query = select(run_queue.c.run_id).where(
            run_queue.c.assistant_id == assistant_id,
            run_queue.c.status.in_(("pending", "running")),
        )
        async with service.log.engine.connect() as conn:
            run_ids = list((await conn.execute(query)).scalars())
        for run_id in run_ids:
            await runs.queue.cancel(run_id)
        return
    for run in list(runs.runs.values()):
        if run.assistant_id == assistant_id and not run.final:
            await runs.request_cancel(run)


@router.post("/assistants/{assistant_id}/versions")
async def assistant_versions(
    request: Request, assistant_id: str, body: AssistantVersionsSearch
) -> JSONResponse:
    """An assistant's versions, newest first."""
    found = await assistants_of(request.app).versions(
        assistant_id, metadata=body.metadata, limit=body.limit, offset=body.offset
    )
    return JSONResponse([v.version_json() for v in found])


@router.post("/assistants/{assistant_id}/latest")
async def set_latest_version(
    request: Request, assistant_id: str, body: AssistantVersionChange
) -> JSONResponse:
    """Use another version of an assistant from now on."""
    chosen = await assistants_of(request.app).set_latest(assistant_id, body.version)
    return JSONResponse(chosen.json())


@router.get("/assistants/{assistant_id}/graph")
async def get_assistant_graph(
    request: Request, assistant_id: str, xray: str | None = None
) -> JSONResponse:
    """The nodes and edges of an assistant's graph (``xray``: subgraphs drawn inside, all of
    them or that many levels deep)."""
    store = assistants_of(request.app)
    if assistant_id in store.graphs:
        assistant_id = assistant_id_of(assistant_id)
    assistant = await store.get(assistant_id)
    return JSONResponse(graph_json(store.graphs[assistant.graph_id], _xray(xray)))


def _xray(value: str | None) -> bool | int:
    if not value or value in ("false", "False"):
        return False
    if value in ("true", "True"):
        return True
    try:
        depth = int(value)
    except ValueError:
        depth = 0
    if depth <= 0:
        raise ApiError(422, f"Invalid xray value {value!r}: true, false or a depth above 0")
    return depth


@router.get("/assistants/{assistant_id}/schemas")
async def get_assistant_schemas(request: Request, assistant_id: str) -> JSONResponse:
    """The JSON schemas of an assistant's graph: input, output, state, config, context."""
    store = assistants_of(request.app)
    assistant = await store.get(assistant_id)
    schemas = graph_schemas(store.graphs[assistant.graph_id])
    return JSONResponse({"graph_id": assistant.graph_id, **schemas})


@router.get("/assistants/{assistant_id}/subgraphs")
async def get_assistant_subgraphs(
    request: Request, assistant_id: str, recurse: bool = False
) -> JSONResponse:
    """The schemas of the subgraphs of an assistant's graph, by namespace."""
    return await _subgraphs(request, assistant_id, None, recurse)


@router.get("/assistants/{assistant_id}/subgraphs/{namespace}")
async def get_assistant_subgraphs_at(
    request: Request, assistant_id: str, namespace: str, recurse: bool = False
) -> JSONResponse:
    """The schemas of the subgraph at ``namespace`` (``parent|child``; nested ones with
    ``recurse``)."""
    return await _subgraphs(request, assistant_id, namespace, recurse)


async def _subgraphs(
    request: Request, assistant_id: str, namespace: str | None, recurse: bool
) -> JSONResponse:
    store = assistants_of(request.app)
    assistant = await store.get(assistant_id)
    graph = store.graphs[assistant.graph_id]
    return JSONResponse(
        {
            ns: graph_schemas(sub)
            for ns, sub in subgraphs_of(graph, namespace=namespace, recurse=recurse)
        }
    )


# --- what a graph looks like ------------------------------------------------------------------


def subgraphs_of(
    graph: CompiledStateGraph, *, namespace: str | None = None, recurse: bool = False
) -> Iterator[tuple[str, CompiledStateGraph]]:
    """(namespace, subgraph) of the nodes that are compiled graphs (LangGraph's
    ``get_subgraphs``: only the one at ``namespace`` if given, nested ones with ``recurse``)."""
    for name, spec in graph.builder.nodes.items():
        if namespace is not None and namespace != name and not namespace.startswith(name + "|"):
            continue
        sub = spec.action
        if not isinstance(sub, CompiledStateGraph):
            continue
        if name == namespace:
            yield name, sub
            return
        if namespace is None:
            yield name, sub
        if recurse:
            child = None if namespace is None else namespace[len(name) + 1 :]
            for ns, nested in subgraphs_of(sub, namespace=child, recurse=recurse):
                yield f"{name}|{ns}", nested


def graph_json(graph: CompiledStateGraph, xray: bool | int = False) -> dict[str, Any]:
    """The graph's nodes and edges as LangGraph's server answers them."""
    drawn = _draw(graph, xray).to_json()
    for node in drawn["nodes"]:
        if isinstance(node.get("data"), dict):
            node["data"].pop("id", None)
    return drawn


def _draw(graph: CompiledStateGraph, xray: bool | int) -> Graph:
    """The graph drawn as LangGraph draws it, from its builder's nodes, edges and branches."""
    builder = graph.builder
    subgraphs: dict[str, Graph] = {}
    if xray:
        deeper = xray if isinstance(xray, bool) else xray - 1
        subgraphs = {name: _draw(sub, deeper) for name, sub in subgraphs_of(graph)}
    drawn = Graph()
    drawn.add_node(_runnable(START), START)
    before, after = graph.interrupt_before_nodes, graph.interrupt_after_nodes
    for name, spec in builder.nodes.items():
        metadata = dict(spec.metadata or {})
        if spec.defer:
            metadata["defer"] = True
        if name in before and name in after:
            metadata["__interrupt"] = "before,after"
        elif name in before:
            metadata["__interrupt"] = "before"
        elif name in after:
            metadata["__interrupt"] = "after"
        drawn.add_node(_runnable(name), name, metadata=metadata or None)
    edges = _edges(graph)
    for source, target, conditional, label in edges:
        _add_edge(drawn, source, target, label if label != target else None, conditional)
    termini = {t for _, t, _, _ in edges if t != END} - {s for s, _, _, _ in edges}
    for source in sorted(termini):
        _add_edge(drawn, source, END, None, False)
    for name, sub in subgraphs.items():
        if len(sub.nodes) > 1 and name in drawn.nodes and sub.first_node() and sub.last_node():
            sub.trim_first_node()
            sub.trim_last_node()
            drawn.nodes.pop(name)
            first, last = drawn.extend(sub, prefix=name)
            for i, edge in enumerate(drawn.edges):
                if edge.source == name and last is not None:
                    edge = edge.copy(source=last.id)
                if edge.target == name and first is not None:
                    edge = edge.copy(target=first.id)
                drawn.edges[i] = edge
    return drawn


def _edges(graph: CompiledStateGraph) -> list[tuple[str, str, bool, str | None]]:
    """(source, target, conditional, label) of every edge, sorted; plain edges to the end are
    left out: they are drawn last, from the nodes no edge leaves (as LangGraph finds them)."""
    builder = graph.builder
    edges: set[tuple[str, str, bool, str | None]] = set()
    for source, target in builder.edges:
        if target != END:
            edges.add((source, target, False, None))
    for sources, target in builder.waiting_edges:
        if target != END:
            edges.update((source, target, False, None) for source in sources)
    for source, branches in builder.branches.items():
        for branch in branches.values():
            for label, target in (branch.ends or {}).items():
                edges.add((source, target, True, str(label)))
    for name, spec in builder.nodes.items():
        edges.update((name, target, True, None) for target in spec.ends)
    return sorted(edges, key=lambda e: (e[0], e[1], e[2], e[3] or ""))


def _add_edge(drawn: Graph, source: str, target: str, label: str | None, cond: bool) -> None:
    if any(e.source == source and e.target == target for e in drawn.edges):
        return
    if target not in drawn.nodes and target == END:
        drawn.add_node(None, END)
    drawn.add_edge(drawn.nodes[source], drawn.nodes[target], label, cond)


def _runnable(name: str) -> RunnableLambda[Any, Any]:
    """What stands for a node in the drawing (its name is all that is shown)."""
    return RunnableLambda(_identity, name=name)


def _identity(value: Any) -> Any:
    return value


def graph_schemas(graph: CompiledStateGraph) -> dict[str, Any]:
    """The JSON schemas of the graph's input, output, state, config and context, as LangGraph's
    server gives them (``None`` for one that cannot be made)."""
    builder = graph.builder
    return {
        "input_schema": _safely(lambda: _json_schema(graph, builder.schemas.input, "Input")),
        "output_schema": _safely(lambda: _json_schema(graph, builder.schemas.output, "Output")),
        "state_schema": _safely(lambda: _state_schema(graph)),
        "config_schema": _safely(lambda: _config_schema(graph)),
        "context_schema": _safely(lambda: _type_schema(builder.context_schema)),
    }


def _safely(make: Callable[[], dict[str, Any] | None]) -> dict[str, Any] | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return make()
    except Exception:
        return None


def _name(graph: CompiledStateGraph, suffix: str) -> str:
    """LangChain's ``get_name(suffix)``."""
    name = graph.name
    return name + suffix.title() if name[:1].isupper() else f"{name}_{suffix.lower()}"


def _update_type(annotation: Any) -> Any:
    """What a write to a key must be: its annotation, without a reducer's ``Annotated``."""
    if typing.get_origin(annotation) is typing.Annotated:
        return annotation.__origin__
    return annotation


def _json_schema(graph: CompiledStateGraph, schema: Any, suffix: str) -> dict[str, Any]:
    """An input or output schema: a model's or a TypedDict's own, else (a dataclass) a model
    of its keys, each with its default (LangGraph's ``get_field_default``)."""
    if (inspect.isclass(schema) and issubclass(schema, BaseModel)) or is_typeddict(schema):
        return _type_schema(schema) or {}
    fields: dict[str, Any] = {}
    declared = (
        {f.name: f for f in dataclasses.fields(schema)} if dataclasses.is_dataclass(schema) else {}
    )
    for key, channel in channels_for_schema(schema).items():
        kind = _update_type(channel.annotation)
        field = declared.get(key)
        default: Any = ...
        if field is not None and field.default is not dataclasses.MISSING:
            default = field.default
        elif field is not None and callable(field.default_factory):
            default = field.default_factory()
        elif type(None) in typing.get_args(kind):
            default = None
        fields[key] = (kind, default)
    return _model_schema(_name(graph, suffix), fields)


def _state_schema(graph: CompiledStateGraph) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, channel in graph.builder.channels.items():
        kind = _update_type(channel.annotation)
        try:
            TypeAdapter(kind).json_schema()
        except Exception:
            kind = Any
        fields[key] = (kind, None)
    return _model_schema(_name(graph, "State"), fields)


def _model_schema(name: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The JSON schema of a model ``name`` with ``fields`` (key: (type, default))."""
    found: dict[str, Any] = create_model(name, **fields).model_json_schema()
    return found


def _config_schema(graph: CompiledStateGraph) -> dict[str, Any]:
    """The context schema as the config's ``configurable`` (LangGraph's older name for it)."""
    schema = _type_schema(graph.builder.context_schema)
    if not schema:
        return {}
    for key in _NOT_CONFIGURED:
        schema.get("properties", {}).pop(key, None)
    return schema


_NOT_CONFIGURED = (
    "__pregel_checkpointer",
    "__pregel_store",
    "checkpoint_id",
    "checkpoint_ns",
    "thread_id",
)
"""Keys a config schema leaves out (the server sets them)."""


def _type_schema(schema: Any) -> dict[str, Any] | None:
    if schema is None:
        return None
    found: dict[str, Any]
    if inspect.isclass(schema) and issubclass(schema, BaseModel):
        found = schema.model_json_schema()
    else:
        found = TypeAdapter(schema).json_schema()
    return found
