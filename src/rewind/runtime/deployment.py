"""What a server tells a run about where it runs: LangGraph's ``ServerInfo`` and ``BaseUser``.

A run started by a server whose config carries ``assistant_id``, ``graph_id`` or an
authenticated user (``langgraph_auth_user``), as LangGraph's server and rewind's put them
there, gives its nodes ``runtime.server_info``; a run started in-process gets ``None``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast, runtime_checkable

__all__ = ["BaseUser", "ServerInfo", "server_info_of"]


@runtime_checkable
class BaseUser(Protocol):
    """An authenticated user (the protocol of ``langgraph_sdk.auth.types.BaseUser``)."""

    @property
    def is_authenticated(self) -> bool:
        """Whether the user is authenticated."""
        ...

    @property
    def display_name(self) -> str:
        """The user's display name."""
        ...

    @property
    def identity(self) -> str:
        """The user's unique id."""
        ...

    @property
    def permissions(self) -> Sequence[str]:
        """The user's permissions."""
        ...

    def __getitem__(self, key: str) -> Any: ...

    def __contains__(self, key: object) -> bool: ...

    def __iter__(self) -> Iterator[str]: ...


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """The deployment a run belongs to, as the server that started it says."""

    assistant_id: str
    """The assistant the run was started for."""
    graph_id: str
    """The graph the assistant runs."""
    user: BaseUser | None = None
    """The authenticated user, if any."""


def server_info_of(configurable: Mapping[str, Any]) -> ServerInfo | None:
    """The :class:`ServerInfo` a run's ``configurable`` describes (``None`` if none)."""
    assistant_id = configurable.get("assistant_id")
    graph_id = configurable.get("graph_id")
    given = configurable.get("langgraph_auth_user")
    user = (
        cast(BaseUser, given)
        if given is not None and (isinstance(given, BaseUser) or hasattr(given, "identity"))
        else None
    )
    if assistant_id is None and graph_id is None and user is None:
        return None
    return ServerInfo(
        assistant_id=str(assistant_id) if assistant_id else "",
        graph_id=str(graph_id) if graph_id else "",
        user=user,
    )
