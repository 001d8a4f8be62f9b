"""LangGraph's write entries (``langgraph.pregel._write``), as its ``Pregel`` docs use them:
``write_to(ChannelWriteEntry("value", skip_none=True))``."""

from rewind.runtime.lowlevel import PASSTHROUGH, ChannelWriteEntry

__all__ = ("PASSTHROUGH", "ChannelWriteEntry")
