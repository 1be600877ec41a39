"""The journal's writes kept on disk while the database is away, so a crash loses none.

While PostgreSQL is away the writer's journal (services/journal.py) holds the centre's writes
in memory; with a journal file each is also appended here as it is queued, and a marker
follows once the database has taken it. A controller started after a crash finds the writes
no marker covers and writes them before it reads its state (services/store_writes.py). The
file is emptied when every write it kept is written.

The format: a header, then records, each `kind (1 byte) | seq (8) | length (4) | payload |
crc32 (4)` of the bytes before it; kind `W` is a write (the payload a pickle of the domain's
value), `D` says every write up to `seq` is written. A record cut short by a crash is the
end of the file; a record whose checksum is wrong anywhere else is damage, and the start is
refused rather than a write silently lost.

Pickle runs code named in its data, so the file is trusted only as the controller's own: it
is created 0600 and refused if anyone else could have written it, and its reader builds
nothing but the domain's own values (`_DomainOnly`).
"""

from __future__ import annotations

import io
import os
import pickle
import struct
import zlib
from pathlib import Path
from types import MappingProxyType
from typing import Any

MAGIC = b"CCGW-JOURNAL 1\n"
_HEAD = struct.Struct(">cQI")
_CRC = struct.Struct(">I")
WRITE, WRITTEN = b"W", b"D"


class JournalFileError(Exception):
    """The journal file cannot be trusted or read: the controller does not start."""


class JournalFile:
    """One controller's journal file; every method but `kept` may be called while it runs
    (appends on the loop's thread, `sync` in the writer's)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            _check_owned(self._fd, path)
            if os.fstat(self._fd).st_size == 0:
                os.write(self._fd, MAGIC)
        except BaseException:
            os.close(self._fd)
            raise

    def kept(self) -> list[Any]:
        """The writes no marker says are written, in their order."""
        with open(self.path, "rb") as f:
            data = f.read()
        return [write for _, write in decode(data)]

    def keep(self, seq: int, write: object) -> None:
        self._append(WRITE, seq, dump_write(write))

    def written(self, seq: int) -> None:
        """Every write kept up to `seq` is in the database."""
        self._append(WRITTEN, seq, b"")

    def sync(self) -> None:
        """What was appended survives the machine's crash too (a process's survives anyway)."""
        os.fsync(self._fd)

    def clear(self) -> None:
        """Nothing kept: every write is in the database."""
        os.ftruncate(self._fd, len(MAGIC))
        os.fsync(self._fd)

    def close(self) -> None:
        os.close(self._fd)

    def _append(self, kind: bytes, seq: int, payload: bytes) -> None:
        record = _HEAD.pack(kind, seq, len(payload)) + payload
        os.write(self._fd, record + _CRC.pack(zlib.crc32(record)))


def decode(data: bytes) -> list[tuple[int, Any]]:
    """(seq, write) of every write not marked written, in order (sans-IO: the file's bytes)."""
    if not data.startswith(MAGIC):
        raise JournalFileError("not a ccgateway journal file (its header is wrong)")
    writes: list[tuple[int, bytes]] = []
    written = 0
    at = len(MAGIC)
    while at < len(data):
        end_of_head = at + _HEAD.size
        if end_of_head > len(data):
            break  # cut short by a crash: the end
        kind, seq, length = _HEAD.unpack_from(data, at)
        end = end_of_head + length + _CRC.size
        if end > len(data):
            break
        (crc,) = _CRC.unpack_from(data, end - _CRC.size)
        if crc != zlib.crc32(data[at : end - _CRC.size]) or kind not in (WRITE, WRITTEN):
            raise JournalFileError(f"the journal file is damaged at byte {at}")
        if kind == WRITE:
            writes.append((seq, data[end_of_head : end - _CRC.size]))
        else:
            written = max(written, seq)
        at = end
    return [(seq, load_write(payload)) for seq, payload in writes if seq > written]


def dump_write(write: object) -> bytes:
    """A domain value as bytes (the file's payload; a pair's left writes, handover_store.py)."""
    out = io.BytesIO()
    _DomainPickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(write)
    return out.getvalue()


def load_write(payload: bytes) -> Any:
    """The domain value `dump_write` made; JournalFileError if it cannot be read, or names
    anything but the domain's own values."""
    try:
        return _DomainOnly(io.BytesIO(payload)).load()
    except JournalFileError:
        raise
    except Exception as exc:
        raise JournalFileError(f"a write in the journal file cannot be read: {exc}") from exc


class _DomainPickler(pickle.Pickler):
    """The domain's read-only mappings (MappingProxyType) kept as such."""

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is MappingProxyType:
            return _read_only, (dict(obj),)
        return NotImplemented


def _read_only(mapping: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(mapping)


class _DomainOnly(pickle.Unpickler):
    """Builds the domain's values and the few built-ins they hold, nothing else."""

    ALLOWED = frozenset(
        {
            ("builtins", "frozenset"),
            ("builtins", "set"),
            (__name__, "_read_only"),
            ("copyreg", "_reconstructor"),
            ("builtins", "object"),
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        if module.startswith("ccgateway.domain.") or (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise JournalFileError(f"the journal file names {module}.{name}, which is not ours")


def _check_owned(fd: int, path: Path) -> None:
    stat = os.fstat(fd)
    if stat.st_uid != os.geteuid():
        raise JournalFileError(f"{path} belongs to another user: move it away or chown it")
    if stat.st_mode & 0o077:
        mode = stat.st_mode & 0o777
        raise JournalFileError(f"{path} is open to others (mode {mode:o}): chmod 600")
