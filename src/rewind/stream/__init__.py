"""LangGraph 1.2's in-process v3 streaming, on rewind's runs.

``graph.stream_events(input, config, version="v3")`` returns a :class:`GraphRunStream`
(``await graph.astream_events(..., version="v3")``: an :class:`AsyncGraphRunStream`) whose
projections (``run.values``, ``run.messages``, ``run.lifecycle``, ``run.subgraphs``,
``run.output``...) are read as the run goes; reading drives the run. Transformers make the
projections from the run's protocol events: the built-in ones, those a graph was compiled with
(``compile(transformers=[...])``) and those of the call (``transformers=[...]``).

As under LangGraph, a v3 run asks chat models for LangChain's content-block events (the run's
log records them as ``chat.event``), so a model's message comes back with its content as
content blocks, in the state too. :func:`replay_events` (``await`` :func:`areplay_events`)
rebuilds such a run's run stream from the log alone, as its live client got it; a replay of its
stream modes (:mod:`rewind.replay`) shows those events in its ``messages`` mode, as the run's
``messages`` mode did.
"""

from rewind.stream._replay import areplay_events, replay_events
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
    "areplay_events",
    "replay_events",
]
