"""The human-in-the-loop request and response shapes of LangGraph's prebuilt agent
(``HumanInterrupt`` passed to ``interrupt()``, ``HumanResponse`` resumed with). Deprecated in
LangGraph 1.x in favour of ``langchain.agents.interrupt``, and warning as LangGraph's do."""

from __future__ import annotations

from typing import Any, Literal

from typing_extensions import TypedDict, deprecated

from rewind.errors import LangGraphDeprecatedSinceV10

__all__ = ["ActionRequest", "HumanInterrupt", "HumanInterruptConfig", "HumanResponse"]


def _moved(name: str) -> str:
    return (
        f"{name} has been moved to `langchain.agents.interrupt`. Please update your import to "
        f"`from langchain.agents.interrupt import {name}`."
    )


@deprecated(_moved("HumanInterruptConfig"), category=LangGraphDeprecatedSinceV10)
class HumanInterruptConfig(TypedDict):
    """What a human may do with the request: ignore it, respond, edit, accept."""

    allow_ignore: bool
    allow_respond: bool
    allow_edit: bool
    allow_accept: bool


@deprecated(_moved("ActionRequest"), category=LangGraphDeprecatedSinceV10)
class ActionRequest(TypedDict):
    """The action asked for and its arguments."""

    action: str
    args: dict[str, Any]


@deprecated(_moved("HumanInterrupt"), category=LangGraphDeprecatedSinceV10)
class HumanInterrupt(TypedDict):
    """What ``interrupt()`` is given: the request, what the human may do, a description."""

    action_request: ActionRequest
    config: HumanInterruptConfig
    description: str | None


class HumanResponse(TypedDict):
    """What the run is resumed with: ``accept``/``ignore`` (no args), ``response`` (a text)
    or ``edit`` (the edited request)."""

    type: Literal["accept", "ignore", "response", "edit"]
    args: str | ActionRequest | None
