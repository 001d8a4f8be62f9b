"""``EncryptedSerializer``: a serializer whose bytes are encrypted by a cipher.

``EncryptedSerializer.from_pycryptodome_aes()`` needs the ``pycryptodome`` package
(``pip install 'rewind[encrypted]'``); its bytes are LangGraph's (AES in EAX mode by default,
nonce, tag and ciphertext), so either library decrypts what the other wrote.
"""

from __future__ import annotations

import os
from typing import Any

from rewind.checkpoint.serde.base import CipherProtocol, SerializerProtocol
from rewind.checkpoint.serde.jsonplus import JsonPlusSerializer

__all__ = ["EncryptedSerializer"]


class EncryptedSerializer(SerializerProtocol):
    """Serializes with ``serde``, then encrypts the bytes with ``cipher``.

    The type becomes ``"{type}+{cipher name}"``; a pair without ``+`` was not encrypted and is
    loaded as it is.
    """

    def __init__(self, cipher: CipherProtocol, serde: SerializerProtocol | None = None) -> None:
        self.cipher = cipher
        """Encrypts and decrypts the bytes."""
        self.serde: SerializerProtocol = serde if serde is not None else JsonPlusSerializer()
        """Turns objects into bytes and back."""

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        """``obj`` serialized, then encrypted."""
        typ, data = self.serde.dumps_typed(obj)
        ciphername, ciphertext = self.cipher.encrypt(data)
        return f"{typ}+{ciphername}", ciphertext

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        """The object an encrypted (or plain) pair encodes."""
        typed, payload = data
        if "+" not in typed:
            return self.serde.loads_typed(data)
        typ, ciphername = typed.split("+", 1)
        return self.serde.loads_typed((typ, self.cipher.decrypt(ciphername, payload)))

    @classmethod
    def from_pycryptodome_aes(
        cls, serde: SerializerProtocol | None = None, **kwargs: Any
    ) -> EncryptedSerializer:
        """AES encryption with ``key=`` (16, 24 or 32 bytes) or ``$LANGGRAPH_AES_KEY``; other
        keyword arguments go to ``AES.new`` (``mode`` defaults to EAX)."""
        try:
            from Crypto.Cipher import AES
        except ImportError:
            raise ImportError(
                "EncryptedSerializer.from_pycryptodome_aes needs the pycryptodome package: "
                "pip install 'rewind[encrypted]' (or pip install pycryptodome)"
            ) from None
        if "key" in kwargs:
            key: bytes = kwargs.pop("key")
        else:
            key_str = os.getenv("LANGGRAPH_AES_KEY")
            if key_str is None:
                raise ValueError(
                    "LANGGRAPH_AES_KEY environment variable is not set: set it, or pass key="
                )
            key = key_str.encode()
            if len(key) not in (16, 24, 32):
                raise ValueError("LANGGRAPH_AES_KEY must be 16, 24, or 32 bytes long.")
        if kwargs.get("mode") is None:
            kwargs["mode"] = AES.MODE_EAX
        return cls(_AesCipher(AES, key, kwargs), serde)


class _AesCipher(CipherProtocol):
    def __init__(self, aes: Any, key: bytes, options: dict[str, Any]) -> None:
        self._aes = aes
        self._key = key
        self._options = options

    def encrypt(self, plaintext: bytes) -> tuple[str, bytes]:
        cipher = self._aes.new(self._key, **self._options)
        ciphertext, tag = cipher.encrypt_and_digest(plaintext)
        return "aes", cipher.nonce + tag + ciphertext

    def decrypt(self, ciphername: str, ciphertext: bytes) -> bytes:
        if ciphername != "aes":
            raise ValueError(f"Unsupported cipher: {ciphername} (this cipher decrypts 'aes')")
        nonce, tag, body = ciphertext[:16], ciphertext[16:32], ciphertext[32:]
        cipher = self._aes.new(self._key, **self._options, nonce=nonce)
        plaintext: bytes = cipher.decrypt_and_verify(body, tag)
        return plaintext
