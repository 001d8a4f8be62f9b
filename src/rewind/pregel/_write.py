"""LangGraph's write entries (``langgraph.pregel._write``), as its ``Pregel`` docs use them:
``write_to(ChannelWriteEntry("value", skip_none=True))``, and as a ``PregelNode``'s writers
hold them: ``ChannelWrite([ChannelWriteEntry(...), ChannelWriteTupleEntry(...), Send(...)])``."""

from rewind.runtime.pregel_nodes import (
    PASSTHROUGH,
    SKIP_WRITE,
    ChannelWrite,
    ChannelWriteEntry,
    ChannelWriteTupleEntry,
)

__all__ = (
    "PASSTHROUGH",
    "SKIP_WRITE",
    "ChannelWrite",
    "ChannelWriteEntry",
    "ChannelWriteTupleEntry",
)
