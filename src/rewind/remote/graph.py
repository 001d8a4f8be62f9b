"""``RemoteGraph``: a graph served by a LangGraph-API server, called as a local one."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.runnables import Runnable
from langchain_core.runnables.graph import Edge, Graph, Node

from rewind.pregel.protocol import PregelProtocol
from rewind.remote.convert import (
    RemoteException,
    StreamPlan,
    checkpoint_of,
    chunk_out,
    config_of,
    is_skip,
    merge_configs,
    plan_stream,
    sanitize_config,
    snapshot_of,
)
from rewind.remote.run_stream import AsyncRemoteRunStream, RemoteRunStream, reject_v3_kwargs
from rewind.remote.tracing import tracing_headers
from rewind.types import Command, GraphOutput, StateSnapshot

try:
    from langgraph_sdk.client import get_client, get_sync_client
except ImportError:  # pragma: no cover - the extra is installed with the dev dependencies
    raise ImportError(
        "RemoteGraph needs the langgraph-sdk package: pip install 'rewind[remote]' "
        "(or pip install langgraph-sdk)"
    ) from None

__all__ = ["RemoteException", "RemoteGraph"]

logger = logging.getLogger(__name__)


class RemoteGraph(Runnable[Any, Any]):
    """A graph on a LangGraph-API server (an assistant id or graph name), with a compiled
    graph's methods; each is one or a few calls to the server. It can be a node of a graph.

    Args:
        assistant_id: The assistant (or graph name) on the server.
        url: The server's URL (makes the sync and async clients).
        api_key: The API key (else read from the environment by the SDK).
        headers: Headers for every request.
        client: An async ``LangGraphClient`` to use instead of one made from ``url``.
        sync_client: A ``SyncLangGraphClient`` to use instead of one made from ``url``.
        config: A config merged under each call's.
        name: The name it has as a node (the assistant id by default).
        distributed_tracing: Send each run with the caller's trace context: LangSmith's
            headers, as LangGraph's RemoteGraph does, and W3C ``traceparent`` of the current
            OpenTelemetry span (a node's, inside a rewind run), which ``rewind serve`` reads.
    """

    def __init__(
        self,
        assistant_id: str,
        /,
        *,
        url: str | None = None,
        api_key: str | None = None,
        headers: dict[str, str] | None = None,
        client: Any = None,
        sync_client: Any = None,
        config: dict[str, Any] | None = None,
        name: str | None = None,
        distributed_tracing: bool = False,
    ) -> None:
        self.assistant_id = assistant_id
        """The assistant (or graph name) on the server."""
        self.name = assistant_id if name is None else name
        """Its name as a node."""
        self.config = config
        """The config merged under each call's."""
        self.distributed_tracing = distributed_tracing
        """Whether a run is sent with the caller's trace context (LangSmith's headers, as
        LangGraph's RemoteGraph sends them, and W3C ``traceparent``: see
        :mod:`rewind.remote.tracing`)."""
        if client is None and url is not None:
            client = get_client(url=url, api_key=api_key, headers=headers)
        self.client = client
        """The async client."""
        if sync_client is None and url is not None:
            sync_client = get_sync_client(url=url, api_key=api_key, headers=headers)
        self.sync_client = sync_client
        """The sync client."""

    def _async_client(self) -> Any:
        if self.client is None:
            raise ValueError(
                "Async client is not initialized: please provide `url` or `client` when "
                "initializing `RemoteGraph`."
            )
        return self.client

    def _sync(self) -> Any:
        if self.sync_client is None:
            raise ValueError(
                "Sync client is not initialized: please provide `url` or `sync_client` when "
                "initializing `RemoteGraph`."
            )
        return self.sync_client

    def _merged(self, config: Any) -> dict[str, Any]:
        return merge_configs(self.config, config)

    def copy(self, update: dict[str, Any]) -> RemoteGraph:
        """A copy with these attributes replaced."""
        attrs = {**self.__dict__, **update}
        return self.__class__(
            attrs.pop("assistant_id"),
            client=attrs["client"],
            sync_client=attrs["sync_client"],
            config=attrs["config"],
            name=attrs["name"],
            distributed_tracing=attrs["distributed_tracing"],
        )

    def with_config(self, config: Any = None, **kwargs: Any) -> RemoteGraph:
        """A copy whose config has ``config`` (and ``kwargs``) merged over its own."""
        return self.copy({"config": merge_configs(self.config, config, kwargs)})

    # --- the graph's drawing -------------------------------------------------------------------

    @staticmethod
    def _drawable(graph: dict[str, Any]) -> Graph:
        nodes = {}
        for node in graph["nodes"]:
            node_id = str(node["id"])
            data = node.get("data", {})
            node_name = node.get("name")
            if node_name is None:
                node_name = data.get("name", node_id) if isinstance(data, dict) else node_id
            nodes[node_id] = Node(
                id=node_id, name=node_name, data=data, metadata=node.get("metadata")
            )
        return Graph(nodes=nodes, edges=[Edge(**edge) for edge in graph["edges"]])

    def get_graph(self, config: Any = None, *, xray: int | bool = False, **kw: Any) -> Graph:
        """The graph's drawing, from ``GET /assistants/{id}/graph``."""
        graph = self._sync().assistants.get_graph(assistant_id=self.assistant_id, xray=xray, **kw)
        return self._drawable(graph)

    async def aget_graph(self, config: Any = None, *, xray: int | bool = False, **kw: Any) -> Graph:
        """The graph's drawing, from ``GET /assistants/{id}/graph``."""
        client = self._async_client()
        graph = await client.assistants.get_graph(assistant_id=self.assistant_id, xray=xray, **kw)
        return self._drawable(graph)

    # --- state ----------------------------------------------------------------------------------

    def get_state(self, config: Any, *, subgraphs: bool = False, **kw: Any) -> StateSnapshot:
        """The thread's state (at the config's checkpoint, if it names one)."""
        merged = self._merged(config)
        state = self._sync().threads.get_state(
            thread_id=merged["configurable"]["thread_id"],
            checkpoint=checkpoint_of(merged),
            subgraphs=subgraphs,
            **kw,
        )
        return snapshot_of(state)

    async def aget_state(self, config: Any, *, subgraphs: bool = False, **kw: Any) -> StateSnapshot:
        """The thread's state (at the config's checkpoint, if it names one)."""
        merged = self._merged(config)
        state = await self._async_client().threads.get_state(
            thread_id=merged["configurable"]["thread_id"],
            checkpoint=checkpoint_of(merged),
            subgraphs=subgraphs,
            **kw,
        )
        return snapshot_of(state)

    def _history_args(
        self, config: Any, filter: Any, before: Any, limit: int | None
    ) -> dict[str, Any]:
        merged = self._merged(config)
        return {
            "thread_id": merged["configurable"]["thread_id"],
            "limit": limit if limit else 10,
            "before": checkpoint_of(before),
            "metadata": filter,
            "checkpoint": checkpoint_of(merged),
        }

    def get_state_history(
        self,
        config: Any,
        *,
        filter: dict[str, Any] | None = None,
        before: Any = None,
        limit: int | None = None,
        **kw: Any,
    ) -> Iterator[StateSnapshot]:
        """The thread's checkpoints, newest first (10 unless ``limit`` says)."""
        args = self._history_args(config, filter, before, limit)
        for state in self._sync().threads.get_history(**args, **kw):
            yield snapshot_of(state)

    async def aget_state_history(
        self,
        config: Any,
        *,
        filter: dict[str, Any] | None = None,
        before: Any = None,
        limit: int | None = None,
        **kw: Any,
    ) -> AsyncIterator[StateSnapshot]:
        """The thread's checkpoints, newest first (10 unless ``limit`` says)."""
        args = self._history_args(config, filter, before, limit)
        for state in await self._async_client().threads.get_history(**args, **kw):
            yield snapshot_of(state)

    def update_state(self, config: Any, values: Any, as_node: str | None = None, **kw: Any) -> Any:
        """Update the thread's state as ``as_node``; the new checkpoint's config."""
        merged = self._merged(config)
        response = self._sync().threads.update_state(
            thread_id=merged["configurable"]["thread_id"],
            values=values,
            as_node=as_node,
            checkpoint=checkpoint_of(merged),
            **kw,
        )
        return config_of(response["checkpoint"])

    async def aupdate_state(
        self, config: Any, values: Any, as_node: str | None = None, **kw: Any
    ) -> Any:
        """Update the thread's state as ``as_node``; the new checkpoint's config."""
        merged = self._merged(config)
        response = await self._async_client().threads.update_state(
            thread_id=merged["configurable"]["thread_id"],
            values=values,
            as_node=as_node,
            checkpoint=checkpoint_of(merged),
            **kw,
        )
        return config_of(response["checkpoint"])

    def bulk_update_state(self, config: Any, updates: Any) -> Any:
        """Not offered by LangGraph's RemoteGraph either."""
        raise NotImplementedError("RemoteGraph.bulk_update_state: call update_state per update")

    async def abulk_update_state(self, config: Any, updates: Any) -> Any:
        """Not offered by LangGraph's RemoteGraph either."""
        raise NotImplementedError("RemoteGraph.abulk_update_state: call aupdate_state per update")

    # --- runs -----------------------------------------------------------------------------------

    def _run_args(
        self, input: Any, config: Any, plan: StreamPlan, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        sanitized = sanitize_config(self._merged(config))
        command = None
        if isinstance(input, Command):
            command = {k: v for k, v in dataclasses.asdict(input).items() if v is not None}
            input = None
        thread_id = sanitized.get("configurable", {}).pop("thread_id", None)
        headers = kwargs.pop("headers", None)
        if self.distributed_tracing:
            headers = tracing_headers(headers)
        return {
            "thread_id": thread_id,
            "assistant_id": self.assistant_id,
            "input": input,
            "command": command,
            "config": sanitized,
            "stream_mode": plan.sent,
            "stream_subgraphs": plan.stream_subgraphs,
            "if_not_exists": "create",
            "headers": headers,
            **kwargs,
        }

    def stream(  # type: ignore[override]
        self,
        input: Any,
        config: Any = None,
        *,
        stream_mode: Any = None,
        subgraphs: bool = False,
        version: str = "v1",
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Start a run on the server (on the config's thread, created if missing) and yield
        its chunks as a local graph's ``stream`` would (``updates`` by default)."""
        plan = plan_stream(stream_mode, config, subgraphs=subgraphs, version=version)
        for part in self._sync().runs.stream(**self._run_args(input, config, plan, kwargs)):
            out = chunk_out(plan, part)
            if not is_skip(out):
                yield out

    async def astream(  # type: ignore[override]
        self,
        input: Any,
        config: Any = None,
        *,
        stream_mode: Any = None,
        subgraphs: bool = False,
        version: str = "v1",
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """The async form of :meth:`stream`."""
        plan = plan_stream(stream_mode, config, subgraphs=subgraphs, version=version)
        parts = self._async_client().runs.stream(**self._run_args(input, config, plan, kwargs))
        async for part in parts:
            out = chunk_out(plan, part)
            if not is_skip(out):
                yield out

    # --- v3 run streams -------------------------------------------------------------------------

    def _v3_args(self, config: Any, headers: dict[str, str] | None) -> tuple[Any, Any, Any]:
        sanitized = sanitize_config(self._merged(config))
        thread_id = sanitized.get("configurable", {}).pop("thread_id", None)
        if self.distributed_tracing:
            headers = tracing_headers(headers)
        return sanitized, thread_id, headers

    def stream_events(
        self,
        input: Any,
        config: Any = None,
        *,
        version: str = "v2",
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        control: Any = None,
        transformers: Any = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """With ``version="v3"``, a run stream of a run on the server (the server's v3 thread
        stream: see :mod:`rewind.remote.run_stream`), started when entered (``with``); other
        versions are LangChain's (not offered on the sync path)."""
        if version != "v3":
            return super().stream_events(input, config, version=version, **kwargs)  # type: ignore[call-overload]
        reject_v3_kwargs(
            {
                "control": control,
                "transformers": transformers,
                "interrupt_before": interrupt_before,
                "interrupt_after": interrupt_after,
            },
            kwargs,
        )
        client = self._sync()
        sanitized, thread_id, headers = self._v3_args(config, headers)
        sdk = client.threads.stream(
            thread_id=thread_id, assistant_id=self.assistant_id, headers=headers
        )
        return RemoteRunStream(
            client=client, sdk=sdk, input=input, config=sanitized, metadata=kwargs.get("metadata")
        )

    async def astream_events(  # type: ignore[override]
        self,
        input: Any,
        config: Any = None,
        *,
        version: str = "v2",
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        control: Any = None,
        transformers: Any = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """With ``version="v3"``, what :meth:`stream_events` gives, for async code (``async
        with await graph.astream_events(..., version="v3") as run``).

        Raises:
            NotImplementedError: for ``v1`` and ``v2`` (use :meth:`astream`), as LangGraph's
                RemoteGraph raises.
        """
        if version != "v3":
            raise NotImplementedError(
                f"RemoteGraph.astream_events(version={version!r}) is not implemented; use "
                "astream() for v1/v2 streaming or version='v3'."
            )
        reject_v3_kwargs(
            {
                "control": control,
                "transformers": transformers,
                "interrupt_before": interrupt_before,
                "interrupt_after": interrupt_after,
            },
            kwargs,
        )
        client = self._async_client()
        sanitized, thread_id, headers = self._v3_args(config, headers)
        sdk = client.threads.stream(
            thread_id=thread_id, assistant_id=self.assistant_id, headers=headers
        )
        return AsyncRemoteRunStream(
            client=client, sdk=sdk, input=input, config=sanitized, metadata=kwargs.get("metadata")
        )

    @staticmethod
    def _output(last: Any, version: str) -> Any:
        if last is None:
            logger.warning("No events received from remote graph")
            return None
        if version == "v2":
            return GraphOutput(value=last["data"], interrupts=tuple(last.get("interrupts", ())))
        return last

    def invoke(self, input: Any, config: Any = None, *, version: str = "v1", **kwargs: Any) -> Any:
        """Run on the server and return the final state (its last ``values`` chunk)."""
        kwargs.pop("stream_mode", None)
        last = None
        for chunk in self.stream(input, config, stream_mode="values", version=version, **kwargs):
            last = chunk
        return self._output(last, version)

    async def ainvoke(
        self, input: Any, config: Any = None, *, version: str = "v1", **kwargs: Any
    ) -> Any:
        """The async form of :meth:`invoke`."""
        kwargs.pop("stream_mode", None)
        last = None
        async for chunk in self.astream(
            input, config, stream_mode="values", version=version, **kwargs
        ):
            last = chunk
        return self._output(last, version)


# As LangGraph's RemoteGraph is one: a graph node that is a RemoteGraph is found as the node's
# subgraph (``get_subgraphs``, ``get_graph(xray=...)``).
PregelProtocol.register(RemoteGraph)
