"""The queue_log file: lines appended as Asterisk's logger appends them (one line per
event, flushed after each batch), reopened when the file was moved away or deleted (a
logrotate that renames it: the inode at the path is no longer ours), so no line goes to a
rotated file. A rotation that truncates in place (copytruncate) needs nothing: the file is
opened for appending. A file made here is readable by the controller's user only (the
process umask, 077 under `serve`: caller numbers are personal data); give a reader access
with a group and an ACL on the folder.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from ccgateway.domain.queue_log import QueueLogLine


class QueueLogFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO | None = None
        self._identity: tuple[int, int] | None = None  # (device, inode) of the open file

    def __str__(self) -> str:
        return f"the file {self.path}"

    def write(self, lines: Sequence[QueueLogLine]) -> None:
        """Append `lines` (blocking: run it off the event loop)."""
        file = self._open()
        file.write("".join(f"{line.text()}\n" for line in lines).encode())
        file.flush()

    def _open(self) -> BinaryIO:
        try:
            found = os.stat(self.path)
            at_path: tuple[int, int] | None = (found.st_dev, found.st_ino)
        except FileNotFoundError:
            at_path = None
        if self._file is not None and at_path == self._identity:
            return self._file
        self.close()  # rotated away (or never opened): the path gets a file of its own
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        opened = os.fstat(descriptor)
        self._file = os.fdopen(descriptor, "ab")
        self._identity = (opened.st_dev, opened.st_ino)
        return self._file

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file, self._identity = None, None
