"""Recordings sealed at rest: AES-256-GCM in chunks, sans-IO (bytes in, bytes out).

A sealed file is a header and then the audio in chunks of `CHUNK` bytes, each encrypted
and authenticated on its own, so a file of any length is sealed and opened in constant
memory and no byte is handed out before the chunk it is in has been authenticated. The
construction is Tink's streaming AEAD (AES-GCM-HKDF, after Hoang, Reyhanitabar, Rogaway
and Vizár's STREAM):

    header  = MAGIC (8 bytes) | VERSION (1) | salt (16, random) | nonce prefix (7, random)
    file key = HKDF-SHA256(the recordings key, salt, info = INFO): one key per file, so
               nonces never repeat under one key however many files there are
    chunk i = AES-256-GCM(file key, nonce = prefix | i (4, big-endian) | last (1: 0 or 1),
                          associated data = the recording's id)   -> CHUNK + 16 bytes,
              the last one shorter (or empty: 16 bytes for an empty recording)

What this refuses (`SealBroken`): a changed byte anywhere (the header's salt and prefix make
the key and nonces, so a changed header fails the first chunk), chunks dropped, reordered
or repeated (the counter), a file cut short at any point, at a chunk's end too (the last
chunk is marked), bytes added after the last chunk, another recording's file put in this
one's place (its id is the associated data), and another key.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"CCGWREC\x00"
VERSION = 1
SALT_SIZE = 16
PREFIX_SIZE = 7
HEADER_SIZE = len(MAGIC) + 1 + SALT_SIZE + PREFIX_SIZE  # 32
CHUNK = 64 * 1024  # plaintext bytes per chunk
TAG_SIZE = 16
SEALED_CHUNK = CHUNK + TAG_SIZE
KEY_SIZE = 32
INFO = b"ccgateway recording v1"
MAX_CHUNKS = 2**32  # the counter's four bytes: 256 TiB


class SealBroken(ValueError):
    """The bytes are not what was sealed for this recording under this key."""


def key_from_text(text: str) -> bytes:
    """The recordings key from its file's text: 32 bytes in base64."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except binascii.Error as exc:
        raise ValueError("the recordings key file does not hold base64") from exc
    if len(key) != KEY_SIZE:
        raise ValueError(f"the recordings key must be {KEY_SIZE} bytes, not {len(key)}")
    return key


def new_key_text() -> str:
    """A new recordings key, as its file holds it."""
    return base64.b64encode(secrets.token_bytes(KEY_SIZE)).decode()


def sealed_size(plain_size: int) -> int:
    """The size of the sealed file of `plain_size` bytes of audio."""
    chunks = max(1, -(-plain_size // CHUNK))
    return HEADER_SIZE + plain_size + chunks * TAG_SIZE


def plain_size(size: int) -> int:
    """The audio's size from its sealed file's size (SealBroken if no file has that size)."""
    body = size - HEADER_SIZE
    chunks = -(-body // SEALED_CHUNK)
    plain = body - chunks * TAG_SIZE
    if body < TAG_SIZE or plain < 0 or sealed_size(plain) != size:
        raise SealBroken(f"{size} bytes is no sealed file's size")
    return plain


class _Chunks:
    """The per-file AEAD and the chunks' nonces."""

    def __init__(self, key: bytes, salt: bytes, prefix: bytes, recording_id: str) -> None:
        if len(key) != KEY_SIZE:
            raise ValueError(f"the recordings key must be {KEY_SIZE} bytes")
        hkdf = HKDF(algorithm=SHA256(), length=KEY_SIZE, salt=salt, info=INFO)
        self._aead = AESGCM(hkdf.derive(key))
        self._prefix = prefix
        self._data = recording_id.encode()
        self.count = 0

    def _nonce(self, last: bool) -> bytes:
        if self.count >= MAX_CHUNKS:
            raise SealBroken("more chunks than a sealed file may have")
        return self._prefix + self.count.to_bytes(4, "big") + (b"\x01" if last else b"\x00")

    def seal(self, plain: bytes, last: bool) -> bytes:
        sealed = self._aead.encrypt(self._nonce(last), plain, self._data)
        self.count += 1
        return sealed

    def open(self, sealed: bytes, last: bool) -> bytes:
        try:
            plain = self._aead.decrypt(self._nonce(last), sealed, self._data)
        except InvalidTag:
            where = "last chunk" if last else f"chunk {self.count}"
            raise SealBroken(f"the {where} fails authentication") from None
        self.count += 1
        return plain


def _all_but_last(pending: bytearray, size: int, step: Callable[[bytes, bool], bytes]) -> bytes:
    """Every whole chunk of `size` bytes taken off `pending` and stepped (sealed, opened),
    but one: a full chunk is held until more bytes come, as only the end says it is last."""
    out, at = bytearray(), 0
    while len(pending) - at > size:
        out += step(bytes(pending[at : at + size]), False)
        at += size
    del pending[:at]
    return bytes(out)


class Sealer:
    """Seals one recording: `header()` first, then what `feed` and `finish` return."""

    def __init__(self, key: bytes, recording_id: str) -> None:
        salt, prefix = secrets.token_bytes(SALT_SIZE), secrets.token_bytes(PREFIX_SIZE)
        self._header = MAGIC + bytes([VERSION]) + salt + prefix
        self._chunks = _Chunks(key, salt, prefix, recording_id)
        self._pending = bytearray()
        self._finished = False

    def header(self) -> bytes:
        return self._header

    def feed(self, plain: bytes) -> bytes:
        if self._finished:
            raise ValueError("the sealer has finished")
        self._pending += plain
        return _all_but_last(self._pending, CHUNK, self._chunks.seal)

    def finish(self) -> bytes:
        """The last chunk (up to CHUNK bytes of audio, possibly none)."""
        if self._finished:
            raise ValueError("the sealer has finished")
        self._finished = True
        return self._chunks.seal(bytes(self._pending), last=True)


class Opener:
    """Opens one recording's sealed bytes, fed in any pieces: `feed` returns the audio of
    every chunk authenticated so far, `finish` the last chunk's (SealBroken, at once, from
    the first byte that is not what was sealed)."""

    def __init__(self, key: bytes, recording_id: str) -> None:
        self._key, self._recording_id = key, recording_id
        self._chunks: _Chunks | None = None
        self._pending = bytearray()
        self._finished = False

    def feed(self, sealed: bytes) -> bytes:
        if self._finished:
            raise ValueError("the opener has finished")
        self._pending += sealed
        if self._chunks is None:
            if len(self._pending) < HEADER_SIZE:
                return b""
            self._chunks = self._begin(bytes(self._pending[:HEADER_SIZE]))
            del self._pending[:HEADER_SIZE]
        return _all_but_last(self._pending, SEALED_CHUNK, self._chunks.open)

    def finish(self) -> bytes:
        if self._finished:
            raise ValueError("the opener has finished")
        self._finished = True
        if self._chunks is None:
            raise SealBroken("the file ends inside its header")
        if len(self._pending) < TAG_SIZE:
            raise SealBroken("the file ends without its last chunk")
        return self._chunks.open(bytes(self._pending), last=True)

    def _begin(self, header: bytes) -> _Chunks:
        if header[: len(MAGIC)] != MAGIC:
            raise SealBroken("not a sealed recording (no header)")
        if header[len(MAGIC)] != VERSION:
            raise SealBroken(f"a sealed recording of unknown version {header[len(MAGIC)]}")
        salt = header[len(MAGIC) + 1 : len(MAGIC) + 1 + SALT_SIZE]
        prefix = header[len(MAGIC) + 1 + SALT_SIZE :]
        return _Chunks(self._key, salt, prefix, self._recording_id)


def seal(key: bytes, recording_id: str, plain: bytes) -> bytes:
    """A whole recording sealed at once (tests, small files)."""
    sealer = Sealer(key, recording_id)
    return sealer.header() + sealer.feed(plain) + sealer.finish()


def open_sealed(key: bytes, recording_id: str, sealed: bytes) -> bytes:
    """A whole sealed recording opened at once (SealBroken if it is not what was sealed)."""
    opener = Opener(key, recording_id)
    return opener.feed(sealed) + opener.finish()
