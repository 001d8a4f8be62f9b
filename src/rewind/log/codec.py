"""The payload codec: JSON with tagged types, versioned.

Plain JSON values (dicts with string keys, lists, strings, finite numbers, booleans, ``None``)
are stored as themselves. Everything else becomes a tagged object ``{"__rw__": TAG, ...}``:
tuples, named tuples (with their class), sets, frozensets, bytes, datetimes, dates, times,
timedeltas, UUIDs, decimals, non-finite floats, enums, dicts whose keys are not strings,
dataclasses, pydantic v2 models (LangChain messages among them), exceptions (class, arguments,
text and the attributes they keep) and types registered with :func:`register_type`. A redacted value
(:class:`~rewind.events.Redacted`) is ``{"__rw__": "redacted"}``: a payload redacted whole is
that text (:data:`REDACTED_TEXT`). A user's dict with a ``"__rw__"`` key is encoded
as a tagged ``dict``, so no payload a node wrote can look like a tag.

Decoding restores the types. A class that cannot be imported (or no longer accepts its stored
fields) decodes to a plain dict ``{"__class__": "module.QualName", **fields}``, never to an
error, so an old log stays readable after the code that wrote it has changed.

The encoding's version is stored with each event (:data:`CODEC_VERSION`).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as dt
import decimal
import enum
import itertools
import json
import json.scanner
import math
import sys
import threading
import uuid
from collections.abc import Callable
from typing import Any

from rewind._imports import import_class
from rewind.errors import CorruptPayloadError, EncodingError
from rewind.events import REDACTED, Redacted

__all__ = [
    "CODEC_VERSION",
    "REDACTED_TEXT",
    "TAG",
    "build_model",
    "decode",
    "dumps",
    "encode",
    "register_type",
    "tuples_decoded",
    "unrecorded",
]

CODEC_VERSION = 1
"""Version of the encoding written by this code."""

_TAG = "__rw__"
TAG = _TAG
"""The key that marks a tagged value in the JSON text."""
_decode_text: Any = None  # json.JSONDecoder(object_hook=_hook_of(_DECODERS)).decode, below
_scan_tagged: Any = None  # its scanner, set below
_decode_quiet: Any = None  # the same, without noting tuples (see decode's counted), below
_scan_quiet: Any = None
_decode_plain = json.JSONDecoder().decode
_make_scanner: Callable[[json.JSONDecoder], Any] = json.scanner.make_scanner  # type: ignore[assignment]
_scan_plain = _make_scanner(json.JSONDecoder())
_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_dumps: Callable[[Any], str] = _encoder.encode
_c_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
if _c_make_encoder is not None:  # pragma: no branch - CPython has it
    # The C encoder, made once: JSONEncoder.encode makes one per call. _enc's output is a
    # tree of new dicts and lists, so the check for cycles is not needed.
    _c_encode = _c_make_encoder(
        None,  # no cycle markers
        _encoder.default,
        json.encoder.encode_basestring,  # ensure_ascii=False
        None,  # no indent
        ":",
        ",",
        False,  # sort_keys
        False,  # skipkeys
        False,  # allow_nan
    )
    _dumps = lambda value: "".join(_c_encode(value, 0))  # noqa: E731
_std_dumps = _dumps
_ascii_dumps = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode
"""The standard library's encoder escaping every character beyond ASCII: for text holding a
lone surrogate, which UTF-8 (the database's text, the digest's input) cannot hold as it is."""


def _json_dumps(value: Any) -> str:
    """The standard library's encoder, for what orjson refuses (ints beyond 64 bits, lone
    surrogates: written as escapes, read back as they were)."""
    text = _std_dumps(value)
    try:
        text.encode()
    except UnicodeEncodeError:
        return _ascii_dumps(value)
    return text


REDACTED_TEXT = _json_dumps({_TAG: "redacted"})
"""A payload redacted whole, as stored."""

try:
    import orjson
except ImportError:  # pragma: no cover - installed with langchain-core (through langsmith)
    pass
else:
    _orjson_dumps = orjson.dumps

    def _dumps(value: Any) -> str:
        # _enc's output holds only dicts with string keys, lists, strings, ints, finite floats,
        # booleans and None: orjson writes it as the standard library would (floats may differ
        # in form, e.g. 1e16 for 1e+16, not in value), several times faster. It refuses ints
        # beyond 64 bits and strings with lone surrogates: those go to the standard library.
        try:
            return _orjson_dumps(value).decode()
        except TypeError:  # orjson.JSONEncodeError
            return _json_dumps(value)


class _Unencodable(Exception):
    def __init__(self, value: object, detail: str = "") -> None:
        self.value = value
        self.detail = detail


_custom_encoders: dict[type, tuple[str, Callable[[Any], Any]]] = {}
_custom_decoders: dict[str, Callable[[Any], Any]] = {}


def register_type(cls: type, *, encode: Callable[[Any], Any], decode: Callable[[Any], Any]) -> None:
    """Teach the codec a type it does not know.

    Args:
        cls: The type (exact type; subclasses need their own registration).
        encode: Turns an instance into encodable data.
        decode: Turns that data back into an instance.
    """
    path = _class_path(cls)
    _custom_encoders[cls] = (path, encode)
    _custom_decoders[path] = decode
    _models.pop(cls, None)  # a registration outranks the model's own fields


_models: dict[type, str] = {}
"""Pydantic model classes met so far (with no registration of their own): their paths."""


def _class_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def unrecorded(value: Any) -> str:
    """What the log holds in place of a config value it cannot store (a live object: a client,
    a connection): its type, named."""
    kind = type(value)
    return f"<not recorded: {kind.__module__}.{kind.__qualname__}>"


def encode(value: Any) -> str:
    """Encode ``value`` as JSON text.

    Raises:
        EncodingError: naming where in the value the unencodable part sits and its type.
    """
    try:
        return _dumps(_enc(value))
    except _Unencodable as exc:
        path = _find_path(value, exc.value, "payload") or "payload"
        bad = type(exc.value)
        raise EncodingError(path, f"{bad.__module__}.{bad.__qualname__}", exc.detail) from None
    except RecursionError:
        raise EncodingError("payload", type(value).__qualname__, "nesting too deep") from None


def decode(text: str | bytes, version: int = CODEC_VERSION, *, counted: bool = True) -> Any:
    """Decode JSON text written by :func:`encode` (of encoding ``version``); ``counted=False``:
    the tuples it decodes leave :func:`tuples_decoded`'s mark as it is (a payload no state is
    read from)."""
    if version != CODEC_VERSION:
        raise ValueError(
            f"payload encoding version {version} is not known to this rewind "
            f"(it reads version {CODEC_VERSION}); upgrade rewind"
        )
    if not isinstance(text, str):
        try:
            text = text.decode()
        except UnicodeDecodeError as exc:
            raise CorruptPayloadError(f"not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    # Most payloads have no tagged value: those are parsed without a hook per object. What
    # encode wrote is one JSON value without surrounding whitespace: the scanner parses it
    # without the decoder's wrapping (whitespace, errors), which is left to text it did not
    # consume whole.
    tagged = _TAG in text
    scan = (_scan_tagged if counted else _scan_quiet) if tagged else _scan_plain
    try:
        value, end = scan(text, 0)
    except (StopIteration, ValueError, RecursionError):  # the decoder below names what
        end = -1
    if end == len(text):
        return value
    try:
        if tagged:
            return _decode_text(text) if counted else _decode_quiet(text)
        return _decode_plain(text)
    except RecursionError as exc:
        raise CorruptPayloadError("nested deeper than Python can read") from exc
    except CorruptPayloadError:
        raise
    except ValueError as exc:  # (JSON's errors among them)
        raise CorruptPayloadError(f"not the JSON rewind writes: {exc}") from exc


def dumps(value: Any) -> str:
    """JSON text of a value already in the encoded form (plain JSON with tags), written as
    :func:`encode` writes it."""
    return _dumps(value)


# --- encoding ---------------------------------------------------------------------------------


def _enc(v: Any) -> Any:
    t = type(v)
    if t is str or t is int or t is bool or v is None:
        return v
    if t is dict:
        out = {}
        for k, x in v.items():
            if type(k) is not str or k == _TAG:
                return {_TAG: "dict", "v": [[_enc(k), _enc(x)] for k, x in v.items()]}
            # (a value that encodes as itself is not passed to a call of its own)
            out[k] = x if x is None or type(x) in _AS_IS else _enc(x)
        return out
    if t is list:
        return [x if x is None or type(x) in _AS_IS else _enc(x) for x in v]
    if t is float:
        return v if math.isfinite(v) else {_TAG: "float", "v": repr(v)}
    encoder = _ENCODERS.get(t)
    if encoder is not None:
        return encoder(v)
    return _enc_other(v, t)


_AS_IS = frozenset({str, int, bool})
"""The types whose values :func:`_enc` returns as they are (``None`` too)."""


def _enc_other(v: Any, t: type) -> Any:
    path = _models.get(t)
    if path is not None:  # a pydantic model class met before (each token's chunk)
        return {_TAG: "pydantic", "cls": path, "v": _pydantic_fields(v, t)}
    custom = _custom_encoders.get(t)
    if custom is not None:
        return {_TAG: "custom", "cls": custom[0], "v": _enc(custom[1](v))}
    if hasattr(t, "__pydantic_fields__") and hasattr(t, "model_validate"):
        if getattr(t, "__pydantic_root_model__", False):
            return {_TAG: "pydantic_root", "cls": _class_path(t), "v": _enc(v.root)}
        path = _models[t] = _class_path(t)
        return {_TAG: "pydantic", "cls": path, "v": _pydantic_fields(v, t)}
    if dataclasses.is_dataclass(v):
        fields = {f.name: _enc(getattr(v, f.name)) for f in dataclasses.fields(v)}
        return {_TAG: "dataclass", "cls": _class_path(t), "v": fields}
    if isinstance(v, enum.Enum):
        return {_TAG: "enum", "cls": _class_path(t), "v": _enc(v.value)}
    if isinstance(v, tuple) and hasattr(t, "_fields"):  # a named tuple: its class too
        return {_TAG: "namedtuple", "cls": _class_path(t), "v": [_enc(x) for x in v]}
    if isinstance(v, BaseException):  # a failure as recorded: class, arguments, text, fields
        out = {_TAG: "exception", "cls": _class_path(t), "v": _enc_args(v.args), "repr": repr(v)}
        kept = _exception_fields(v)
        if kept:
            out["fields"] = kept
        return out
    for base, encoder in _ENCODERS.items():  # subclasses of the known types (str enums are above)
        if isinstance(v, base):
            return encoder(v)
    if isinstance(v, str):  # the exact base value, not a subclass's __str__
        return str.__str__(v)
    if isinstance(v, int):
        return int.__int__(v)
    if isinstance(v, float):
        return _enc(float.__float__(v))
    if isinstance(v, dict):
        return _enc(dict(v))
    if isinstance(v, list):
        return _enc(list(v))
    raise _Unencodable(v)


def _enc_args(args: tuple[Any, ...]) -> Any:
    try:
        return _enc(args)
    except _Unencodable:
        return _enc(tuple(str(a) for a in args))


_fields_of_exceptions = threading.local()
"""Whether this thread is encoding an exception's attributes (see :func:`_exception_fields`)."""


def _exception_fields(error: BaseException) -> dict[str, Any] | None:
    """The attributes ``error`` keeps besides its arguments, those that can be encoded (a
    ``NodeTimeoutError``'s node, kind and timeouts: its constructor does not take back its
    arguments), so that a replay has them; not its notes (``__notes__``). An exception among
    them is encoded without its own (an attribute may refer back to the error)."""
    attributes = getattr(error, "__dict__", None)
    if not attributes or getattr(_fields_of_exceptions, "busy", False):
        return None
    out: dict[str, Any] = {}
    _fields_of_exceptions.busy = True
    try:
        for name, value in attributes.items():
            if type(name) is not str or name.startswith("__"):
                continue
            try:
                out[name] = _enc(value)
            except (_Unencodable, RecursionError):  # kept out: the rest is still worth having
                continue
    finally:
        _fields_of_exceptions.busy = False
    return out


def _pydantic_fields(model: Any, t: Any) -> dict[str, Any]:
    defaults = _field_defaults(t)
    values = model.__dict__  # a pydantic model keeps its fields' values there, by name
    if values.keys() != defaults.keys():  # built around validation, or caching properties
        values = {name: getattr(model, name) for name in defaults}
    # By name: decoding validates by name (aliases may be one-way). A field equal to its
    # default (of the same type) is left out: decoding restores it from the model's own.
    out = {
        name: _enc(value)
        for name, value in values.items()
        if (default := defaults.get(name, _NO_DEFAULT)) is _NO_DEFAULT
        or type(value) is not type(default)
        or value != default
    }
    extra = model.__pydantic_extra__
    if extra:
        for name, value in extra.items():
            out[name] = _enc(value)
    return out


_NO_DEFAULT: Any = object()
"""A field stored whatever its value: required, or its default made by a factory of the
model's own (which may give a new value each time, or count its calls)."""

_PURE_FACTORIES: frozenset[Any] = frozenset({list, dict, set, frozenset, tuple, str, int, float})
"""Default factories that give an equal, empty value each time, without side effects."""

_defaults: dict[type, tuple[Any, dict[str, Any]]] = {}
"""Per pydantic model class: its fields' mapping (rebuilt models get a new one) and each
field's default by name (:data:`_NO_DEFAULT` when the field is always stored)."""


def _field_defaults(t: Any) -> dict[str, Any]:
    fields = t.__pydantic_fields__
    known = _defaults.get(t)
    if known is not None and known[0] is fields:
        return known[1]
    out = {}
    for name, info in fields.items():
        default = _NO_DEFAULT
        if info.default_factory is not None:
            if info.default_factory in _PURE_FACTORIES:
                default = info.default_factory()
        elif not info.is_required():
            default = info.default
        out[name] = default
    _defaults[t] = (fields, out)
    return out


def _tagged(tag: str, convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda v: {_TAG: tag, "v": convert(v)}


def _enc_set(v: set[Any] | frozenset[Any]) -> list[Any]:
    items = [_enc(x) for x in v]
    with contextlib.suppress(TypeError, ValueError):
        items.sort(key=_dumps)  # a stable order keeps equal sets byte-identical (and hashed)
    return items


_ENCODERS: dict[type, Callable[[Any], Any]] = {
    tuple: _tagged("tuple", lambda v: [_enc(x) for x in v]),
    set: _tagged("set", _enc_set),
    frozenset: _tagged("frozenset", _enc_set),
    bytes: _tagged("bytes", lambda v: base64.b64encode(v).decode("ascii")),
    bytearray: _tagged("bytearray", lambda v: base64.b64encode(v).decode("ascii")),
    dt.datetime: _tagged("datetime", lambda v: v.isoformat()),
    dt.date: _tagged("date", lambda v: v.isoformat()),
    dt.time: _tagged("time", lambda v: v.isoformat()),
    dt.timedelta: _tagged("timedelta", lambda v: [v.days, v.seconds, v.microseconds]),
    uuid.UUID: _tagged("uuid", str),
    decimal.Decimal: _tagged("decimal", str),
    Redacted: lambda v: {_TAG: "redacted"},
}


def _find_path(root: Any, target: object, path: str, seen: set[int] | None = None) -> str | None:
    """Find where ``target`` sits inside ``root`` (slow; only used to word an error)."""
    if root is target:
        return path
    seen = set() if seen is None else seen
    if id(root) in seen:  # a cycle
        return None
    seen.add(id(root))
    children: list[tuple[str, Any]] = []
    if isinstance(root, dict):
        children = [(f"{path}[{k!r}]", x) for k, x in root.items()]
        children += [(f"{path} key {k!r}", k) for k in root]
    elif isinstance(root, list | tuple | set | frozenset):
        children = [(f"{path}[{i}]", x) for i, x in enumerate(root)]
    elif hasattr(type(root), "__pydantic_fields__"):
        children = [(f"{path}.{n}", getattr(root, n)) for n in type(root).__pydantic_fields__]
    elif dataclasses.is_dataclass(root) and not isinstance(root, type):
        children = [(f"{path}.{f.name}", getattr(root, f.name)) for f in dataclasses.fields(root)]
    for child_path, child in children:
        found = _find_path(child, target, child_path, seen)
        if found is not None:
            return found
    return None


# --- decoding ---------------------------------------------------------------------------------


def _hook_of(decoders: dict[str, Callable[[dict[str, Any]], Any]]) -> Callable[[Any], Any]:
    """The decoder's hook for each JSON object: a tagged value made by ``decoders``."""

    def hook(d: dict[str, Any]) -> Any:
        tag = d.get(_TAG)
        if tag is None:
            return d
        decoder = decoders.get(tag)
        if decoder is None:
            return d
        try:
            return decoder(d)
        except CorruptPayloadError:
            raise
        except (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError) as exc:
            raise CorruptPayloadError(
                f"a {tag!r} value that is not as rewind writes it: {exc!r}"
            ) from exc

    return hook


def _fallback(path: str, fields: Any) -> dict[str, Any]:
    name = path.replace(":", ".")
    if isinstance(fields, dict):
        return {"__class__": name, **fields}
    return {"__class__": name, "value": fields}


def _exception(cls: Any, args: Any) -> Any:
    """A recorded exception of class ``cls`` with ``args``: its class called with them, or, for
    a class whose constructor takes other arguments than it keeps (``NodeTimeoutError``), an
    instance made without calling it (its class, arguments, message and repr as recorded)."""
    try:
        return cls(*args)
    except TypeError:
        if not (isinstance(cls, type) and issubclass(cls, BaseException)):
            raise
        return cls.__new__(cls, *args)


def _dec_exception(d: dict[str, Any]) -> Any:
    """A recorded exception (see :func:`_exception`); one that kept attributes is made without
    calling its constructor (which may take other arguments than it keeps, or build its
    message from them), its arguments and attributes as recorded. Its class gone, a dict
    (with the attributes under ``fields``)."""
    fields = d.get("fields")
    if not fields:
        return _dec_class(d, _exception)

    def revive(cls: Any, args: Any) -> Any:
        if not (isinstance(cls, type) and issubclass(cls, BaseException)):
            raise TypeError(f"{cls!r} is not an exception class")
        try:
            error = cls.__new__(cls, *args)
        except TypeError:  # a __new__ of its own that wants other arguments
            error = _exception(cls, args)
        with contextlib.suppress(AttributeError, TypeError):  # (a class without __dict__ now)
            vars(error).update(fields)
        return error

    error = _dec_class(d, revive)
    if isinstance(error, dict):
        error["fields"] = fields
    return error


def _dec_class(d: dict[str, Any], build: Callable[[Any, Any], Any]) -> Any:
    path, fields = d["cls"], d["v"]
    try:
        return build(import_class(path), fields)
    except Exception:  # the class is gone or no longer takes these fields: keep the data
        return _fallback(path, fields)


_tuple_marks = itertools.count(1)
_tuple_mark = 0
"""Set to a number never used before each time a tuple is decoded (see
:func:`tuples_decoded`): ``next`` on the counter is atomic, so no thread's decode can leave
the mark at a value a reader took before it."""


def tuples_decoded() -> int:
    """A mark that changes each time a tuple (or named tuple) is decoded, in any thread.

    A reader takes it before a read and compares after: unchanged, nothing the read decoded
    holds a tuple (LangGraph's checkpointer gives tuples back as lists: see
    :mod:`rewind.runtime.read_back`). Changed, the read decoded one, or another decode ran
    meanwhile: the reader treats what it read as holding one.
    """
    return _tuple_mark


def _dec_tuple(d: dict[str, Any]) -> Any:
    global _tuple_mark
    _tuple_mark = next(_tuple_marks)
    return tuple(d["v"])


def _dec_namedtuple(d: dict[str, Any]) -> Any:
    global _tuple_mark
    _tuple_mark = next(_tuple_marks)
    return _namedtuple(d)


def _namedtuple(d: dict[str, Any]) -> Any:
    """A named tuple of its class; a plain tuple of its items when the class is gone or no
    longer takes them (a class local to a function cannot be imported)."""
    try:
        return import_class(d["cls"])(*d["v"])
    except Exception:
        return tuple(d["v"])


def _dec_pydantic(d: dict[str, Any]) -> Any:
    return build_model(d["cls"], d["v"])


def build_model(path: str, fields: Any) -> Any:
    """The pydantic model of class ``path`` (``module:QualName``) with ``fields``, as decoding
    builds it (a plain dict when the class is gone or no longer takes them)."""
    # The hot tag (LangChain's messages, each token's chunk): one function, no detours.
    try:
        built = _pydantic_builders.get(path)
        if built is None or sys.modules.get(built[0]) is not built[1]:  # (re)imported since
            built = _pydantic_builders[path] = _pydantic_builder(path)
        _, _, cls, direct = built
        if type(fields) is dict:
            if direct and "content" in fields:
                # Its __init__s only pass the fields on: validated as they would be, without them.
                obj = cls.__new__(cls)
                cls.__pydantic_validator__.validate_python(fields, self_instance=obj)
                return obj
            if direct is not None:
                # A model with an __init__ of its own is validated by calling it with the
                # fields, as model_validate would (it calls that __init__): called directly.
                return cls(**fields)
        return cls.model_validate(fields, by_name=True)
    except Exception:  # the class is gone or no longer takes these fields: keep the data
        return _fallback(path, fields)


_pydantic_builders: dict[str, tuple[str, Any, Any, bool | None]] = {}
"""Per class path: its module's name, the module, the class, and how its instances are built:
``None`` by ``model_validate``, ``False`` by calling it (an ``__init__`` of its own), ``True``
by its validator alone (every ``__init__`` it has is one of :data:`_PASSTHROUGH_INITS`, given
the fields with ``content``)."""

_PASSTHROUGH_INITS = frozenset(
    {
        "langchain_core.load.serializable:Serializable.__init__",
        "langchain_core.messages.base:BaseMessage.__init__",
        "langchain_core.messages.ai:AIMessage.__init__",
        "langchain_core.messages.human:HumanMessage.__init__",
        "langchain_core.messages.system:SystemMessage.__init__",
        "langchain_core.messages.tool:ToolMessage.__init__",
    }
)
"""LangChain messages' ``__init__``s that, given their fields by name with ``content`` among
them, only hand them on to pydantic: each token's chunk is built without their four calls.
(``RemoveMessage``'s is not one: it replaces ``content``.)"""


def _pydantic_builder(path: str) -> tuple[str, Any, Any, bool | None]:
    cls = import_class(path)
    module_name = path.partition(":")[0]
    module = sys.modules.get(module_name)
    if not getattr(cls, "__pydantic_custom_init__", False):
        return module_name, module, cls, None
    inits = [
        f"{init.__module__}:{init.__qualname__}"
        for klass in cls.__mro__
        if (init := vars(klass).get("__init__")) is not None
        and klass.__module__ not in ("builtins", "pydantic.main")
    ]
    return module_name, module, cls, all(name in _PASSTHROUGH_INITS for name in inits)


def _build_dataclass(cls: Any, fields: dict[str, Any]) -> Any:
    declared = dataclasses.fields(cls)
    if set(fields) - {f.name for f in declared}:
        raise TypeError(f"{cls.__qualname__} no longer has fields {sorted(fields)}")
    init = {f.name for f in declared if f.init}
    obj = cls(**{k: v for k, v in fields.items() if k in init})
    for k, v in fields.items():
        if k not in init:
            object.__setattr__(obj, k, v)
    return obj


def _dec_custom(d: dict[str, Any]) -> Any:
    decoder = _custom_decoders.get(d["cls"])
    if decoder is None:
        # A type's module registers its codec when imported: import it, then look again.
        with contextlib.suppress(Exception):
            import_class(d["cls"])
        decoder = _custom_decoders.get(d["cls"])
    if decoder is None:
        return _fallback(d["cls"], d["v"])
    return decoder(d["v"])


_DECODERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "dict": lambda d: {_hashable(k): v for k, v in d["v"]},
    "tuple": _dec_tuple,
    "namedtuple": _dec_namedtuple,
    "set": lambda d: {_hashable(x) for x in d["v"]},
    "frozenset": lambda d: frozenset(_hashable(x) for x in d["v"]),
    "bytes": lambda d: base64.b64decode(d["v"]),
    "bytearray": lambda d: bytearray(base64.b64decode(d["v"])),
    "datetime": lambda d: dt.datetime.fromisoformat(d["v"]),
    "date": lambda d: dt.date.fromisoformat(d["v"]),
    "time": lambda d: dt.time.fromisoformat(d["v"]),
    "timedelta": lambda d: dt.timedelta(days=d["v"][0], seconds=d["v"][1], microseconds=d["v"][2]),
    "uuid": lambda d: uuid.UUID(d["v"]),
    "decimal": lambda d: decimal.Decimal(d["v"]),
    "float": lambda d: float(d["v"]),
    "enum": lambda d: _dec_class(d, lambda cls, v: cls(v)),
    "dataclass": lambda d: _dec_class(d, _build_dataclass),
    "pydantic": _dec_pydantic,
    "pydantic_root": lambda d: _dec_class(d, lambda cls, v: cls.model_validate(v)),
    "custom": _dec_custom,
    "exception": _dec_exception,
    "redacted": lambda d: REDACTED,
}


_decoder = json.JSONDecoder(object_hook=_hook_of(_DECODERS))
_decode_text = _decoder.decode
_scan_tagged = _make_scanner(_decoder)
_quiet_decoder = json.JSONDecoder(
    object_hook=_hook_of({**_DECODERS, "tuple": lambda d: tuple(d["v"]), "namedtuple": _namedtuple})
)
_decode_quiet = _quiet_decoder.decode
_scan_quiet = _make_scanner(_quiet_decoder)


def _hashable(v: Any) -> Any:
    # Keys and set members that JSON turned into lists come back as tuples.
    return tuple(_hashable(x) for x in v) if isinstance(v, list) else v
