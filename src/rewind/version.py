"""The installed version of rewind (LangGraph's ``langgraph.version`` names its own)."""

from importlib import metadata

__all__ = ("__version__",)

try:
    __version__ = metadata.version("rewind")
except metadata.PackageNotFoundError:  # run from a source tree without metadata
    __version__ = ""
del metadata
