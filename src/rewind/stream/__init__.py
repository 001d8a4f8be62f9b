"""LangGraph 1.2's in-process v3 streaming, on rewind's runs.

``graph.stream_events(input, config, version="v3")`` returns a :class:`GraphRunStream`
(``await graph.astream_events(..., version="v3")``: an :class:`AsyncGraphRunStream`) whose
projections (``run.values``, ``run.messages``, ``run.lifecycle``, ``run.subgraphs``,
``run.output``...) are read as the run goes; reading drives the run. Transformers make the
projections from the run's protocol events: the built-in ones, those a graph was compiled with
(``compile(transformers=[...])``) and those of the call (``transformers=[...]``).

As under LangGraph, a v3 run asks chat models for LangChain's content-block events (the run's
log records them as ``chat.event``), so a model's message comes back with its content as
content blocks, in the state too. A replay of such a run (:mod:`rewind.replay`) has no v3
form: its ``messages`` mode shows what the log holds in the v1 shape (the tokens the model
reported besides its events, if any, and each call's whole message).
"""

from rewind.stream._types import ProtocolEvent, StreamTransformer
from rewind.stream.run_stream import (
    AsyncGraphRunStream,
    AsyncSubgraphRunStream,
    GraphRunStream,
    SubgraphRunStream,
)
from rewind.stream.stream_channel import StreamChannel
from rewind.stream.transformers import (
    CheckpointsTransformer,
    CustomTransformer,
    DebugTransformer,
    LifecyclePayload,
    LifecycleTransformer,
    SubgraphStatus,
    SubgraphTransformer,
    TasksTransformer,
    UpdatesTransformer,
)

__all__ = [
    "AsyncGraphRunStream",
    "AsyncSubgraphRunStream",
    "CheckpointsTransformer",
    "CustomTransformer",
    "DebugTransformer",
    "GraphRunStream",
    "LifecyclePayload",
    "LifecycleTransformer",
    "ProtocolEvent",
    "StreamChannel",
    "StreamTransformer",
    "SubgraphRunStream",
    "SubgraphStatus",
    "SubgraphTransformer",
    "TasksTransformer",
    "UpdatesTransformer",
]
