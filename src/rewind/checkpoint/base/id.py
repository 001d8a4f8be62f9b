"""Time-ordered UUIDs (version 6) for checkpoint ids, as LangGraph makes them."""

from __future__ import annotations

import random
import threading
import time
import uuid

__all__ = ["UUID", "uuid6"]

_UUID_EPOCH = 0x01B21DD213814000  # 100-ns intervals from 1582-10-15 to 1970-01-01
_last_timestamp: int | None = None
_lock = threading.Lock()


class UUID(uuid.UUID):
    """A UUID that also knows the draft versions 6, 7 and 8 (their layout and time)."""

    __slots__ = ()

    def __init__(
        self,
        hex: str | None = None,
        bytes: bytes | None = None,
        bytes_le: bytes | None = None,
        fields: tuple[int, int, int, int, int, int] | None = None,
        int: int | None = None,
        version: int | None = None,
        *,
        is_safe: uuid.SafeUUID = uuid.SafeUUID.unknown,
    ) -> None:
        if int is None or [hex, bytes, bytes_le, fields].count(None) != 4:
            super().__init__(
                hex=hex,
                bytes=bytes,
                bytes_le=bytes_le,
                fields=fields,
                int=int,
                version=version,
                is_safe=is_safe,
            )
            return
        if not 0 <= int < 1 << 128:
            raise ValueError("int is out of range (need a 128-bit value)")
        if version is not None:
            if not 6 <= version <= 8:
                raise ValueError("illegal version number")
            int = (int & ~(0xC000 << 48)) | 0x8000 << 48  # RFC 4122 variant
            int = (int & ~(0xF000 << 64)) | version << 76
        super().__init__(int=int, is_safe=is_safe)

    @property
    def subsec(self) -> int:
        """The sub-second fraction of a version 8 UUID."""
        return ((self.int >> 64) & 0x0FFF) << 8 | ((self.int >> 54) & 0xFF)

    @property
    def time(self) -> int:
        """The timestamp field, read as the UUID's version lays it out."""
        if self.version == 6:
            return (self.time_low << 28) | (self.time_mid << 12) | (self.time_hi_version & 0x0FFF)
        if self.version == 7:
            return self.int >> 80
        if self.version == 8:
            return (self.int >> 80) * 10**6 + -(-self.subsec * 10**6 // 2**20)
        return super().time


def uuid6(node: int | None = None, clock_seq: int | None = None) -> UUID:
    """A version 6 UUID: UUIDv1's fields reordered so that ids sort by time.

    Successive calls in a process give increasing timestamps. ``node`` (48 bits) and
    ``clock_seq`` (14 bits) are random unless given.
    """
    global _last_timestamp
    with _lock:
        timestamp = time.time_ns() // 100 + _UUID_EPOCH
        if _last_timestamp is not None and timestamp <= _last_timestamp:
            timestamp = _last_timestamp + 1
        _last_timestamp = timestamp
    if clock_seq is None:
        clock_seq = random.getrandbits(14)
    if node is None:
        node = random.getrandbits(48)
    value = ((timestamp >> 12) & 0xFFFFFFFFFFFF) << 80
    value |= (timestamp & 0x0FFF) << 64
    value |= (clock_seq & 0x3FFF) << 48
    value |= node & 0xFFFFFFFFFFFF
    return UUID(int=value, version=6)
