"""LangGraph's legacy ``langgraph.utils.config``: the config helpers, from where they live."""

from langchain_core.runnables.config import ensure_config, patch_config  # noqa: F401

from rewind.config import get_config, get_store  # noqa: F401
