"""The serializer protocols: typed ``(type, bytes)`` pairs, untyped bytes, and ciphers."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = [
    "CipherProtocol",
    "SerializerCompat",
    "SerializerProtocol",
    "UntypedSerializerProtocol",
    "maybe_add_typed_methods",
]


class UntypedSerializerProtocol(Protocol):
    """A serializer of objects to bytes and back (``pickle``, ``json`` and the like)."""

    def dumps(self, obj: Any) -> bytes:
        """The bytes of ``obj``."""
        ...

    def loads(self, data: bytes) -> Any:
        """The object ``data`` encodes."""
        ...


@runtime_checkable
class SerializerProtocol(Protocol):
    """A serializer of objects to ``(type, bytes)`` pairs and back."""

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        """``obj`` as ``(type name, bytes)``."""
        ...

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        """The object a ``(type name, bytes)`` pair encodes."""
        ...


class SerializerCompat(SerializerProtocol):
    """Gives an untyped serializer the typed methods (the type is the object's class name)."""

    def __init__(self, serde: UntypedSerializerProtocol) -> None:
        self.serde = serde
        """The untyped serializer wrapped."""

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        """``(class name, serde.dumps(obj))``."""
        return type(obj).__name__, self.serde.dumps(obj)

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        """``serde.loads`` of the bytes (the type name is not needed)."""
        return self.serde.loads(data[1])


def maybe_add_typed_methods(
    serde: SerializerProtocol | UntypedSerializerProtocol,
) -> SerializerProtocol:
    """``serde`` itself if it has the typed methods, else wrapped in :class:`SerializerCompat`."""
    if not isinstance(serde, SerializerProtocol):
        return SerializerCompat(serde)
    return serde


class CipherProtocol(Protocol):
    """Encrypts and decrypts bytes."""

    def encrypt(self, plaintext: bytes) -> tuple[str, bytes]:
        """``(cipher name, ciphertext)`` of ``plaintext``."""
        ...

    def decrypt(self, ciphername: str, ciphertext: bytes) -> bytes:
        """The plaintext of ``ciphertext`` encrypted with the cipher named ``ciphername``."""
        ...
