"""How chunks and events are printed: JSON lines for programs, readable lines for people.

``rewind run`` and ``rewind replay`` both print through :class:`ChunkPrinter`, so the same
chunks give the same bytes whether they come from a live run or from the log.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import enum
import json
import sys
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TextIO

from langchain_core.messages import BaseMessage, BaseMessageChunk
from pydantic import BaseModel
from rich.console import Console
from rich.text import Text

__all__ = ["ChunkPrinter", "brief", "json_line", "jsonable", "stream_spec"]

_STYLE = {
    "updates": "cyan",
    "values": "green",
    "messages": "magenta",
    "custom": "yellow",
    "tasks": "blue",
    "checkpoints": "blue",
    "debug": "dim",
    "tools": "yellow",
    "events": "dim",
}


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data: messages and pydantic models as their ``model_dump()``,
    dataclasses and named tuples as objects, tuples and sets as arrays."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, dict):
        return {_key(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, BaseModel):  # messages included: their model_dump()
        return jsonable(value.model_dump())
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return jsonable(value._asdict())
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, default=str))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for field in dataclasses.fields(value):
            item = getattr(value, field.name, None)
            if item is None and field.name == "response_schema":
                continue  # as LangGraph's JSON shows an Interrupt: value and id
            out[field.name] = jsonable(item)
        return out
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    return repr(value)


def _key(key: Any) -> str:
    return key if isinstance(key, str) else json.dumps(jsonable(key), ensure_ascii=False)


def json_line(chunk: Any) -> str:
    """One chunk as one line of JSON."""
    return json.dumps(jsonable(chunk), ensure_ascii=False)


def brief(value: Any) -> str:
    """A short, readable rendering of a value: messages as ``role: text``, the rest as JSON."""
    if isinstance(value, BaseMessage):
        text = value.content if isinstance(value.content, str) else json_line(value.content)
        role = f"{value.type} {value.name}" if value.type == "tool" and value.name else value.type
        out = f"{role}: {text}" if text else role
        calls = getattr(value, "tool_calls", None) or []
        if calls:
            out += " → " + ", ".join(f"{c['name']}({json_line(c.get('args'))})" for c in calls)
        return out
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)}: {brief(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple) and not hasattr(value, "_asdict"):
        return "[" + ", ".join(brief(v) for v in value) + "]"
    return json_line(value)


def stream_spec(modes: Sequence[str]) -> str | list[str]:
    """The ``stream_mode`` argument for the modes asked for: one mode, or a list of them."""
    return modes[0] if len(modes) == 1 else list(modes)


class ChunkPrinter:
    """Prints a stream's chunks: JSON lines, or one readable line per chunk (tokens inline)."""

    def __init__(
        self,
        modes: Sequence[str],
        *,
        subgraphs: bool,
        as_json: bool,
        out: TextIO | None = None,
    ) -> None:
        self.modes = list(modes)
        self.subgraphs = subgraphs
        self.as_json = as_json
        self.out = out or sys.stdout
        self.console = Console(file=self.out, highlight=False, soft_wrap=True)
        self._open: tuple[Any, ...] | None = None
        """The message whose tokens are being printed on the current line."""
        self._started = False
        """Whether that line has text after its prefix yet."""

    def show(self, chunk: Any) -> None:
        """Print one chunk as the stream shaped it."""
        if self.as_json:
            self.out.write(json_line(chunk) + "\n")
            self.out.flush()
            return
        ns, mode, data = self._split(chunk)
        prefix = Text(f"{mode:<8} ", style=_STYLE.get(mode, ""))
        if ns:
            prefix.append(f"{'/'.join(ns)} ", style="dim")
        if mode == "messages":
            self._message(prefix, ns, data)
        elif mode == "updates" and isinstance(data, dict):
            for node, update in data.items():
                line = prefix.copy()
                line.append(f"{node}: ", style="bold")
                self._line(line.append(brief(update)))
        else:
            self._line(prefix.append(brief(data)))

    def close(self) -> None:
        """End a line of tokens left open."""
        if self._open is not None:
            self.console.print()
            self._open = None

    def _split(self, chunk: Any) -> tuple[tuple[str, ...], str, Any]:
        if len(self.modes) > 1:
            if self.subgraphs:
                return tuple(chunk[0]), chunk[1], chunk[2]
            return (), chunk[0], chunk[1]
        if self.subgraphs:
            return tuple(chunk[0]), self.modes[0], chunk[1]
        return (), self.modes[0], chunk

    def _line(self, text: Text) -> None:
        self.close()
        self.console.print(text)

    def _message(self, prefix: Text, ns: tuple[str, ...], data: Any) -> None:
        message, metadata = data if isinstance(data, tuple | list) else (data, {})
        node = (metadata or {}).get("langgraph_node", "")
        if not isinstance(message, BaseMessageChunk):
            self._line(
                prefix.append(f"{node}: " if node else "", style="bold").append(brief(message))
            )
            return
        key = (ns, node, message.id)
        if key != self._open:
            self.close()
            self.console.print(prefix.append(f"{node}: " if node else "", style="bold"), end="")
            self._open = key
            self._started = False
        text = message.content if isinstance(message.content, str) else ""
        for call in getattr(message, "tool_call_chunks", None) or ():
            if call.get("name"):
                text += f"{' ' if text or self._started else ''}→ {call['name']} "
            text += call.get("args") or ""
        self.console.print(Text(text), end="")
        self._started = self._started or bool(text)
        self.out.flush()
