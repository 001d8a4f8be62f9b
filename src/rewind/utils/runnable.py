"""LangGraph's legacy ``langgraph.utils.runnable``: a node with a sync and an async function
(LangGraph's ``RunnableCallable``; see :class:`rewind.runtime.tasks.SyncAsyncNode`)."""

from rewind.runtime.tasks import SyncAsyncNode as RunnableCallable  # noqa: F401
