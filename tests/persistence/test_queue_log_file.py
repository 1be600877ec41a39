"""The queue_log file as logrotate treats it: moved away (a new file at the path takes the
next lines), or truncated in place (appended after the cut)."""

from __future__ import annotations

from pathlib import Path

from ccgateway.domain.queue_log import QueueLogLine
from ccgateway.persistence.queue_log_file import QueueLogFile
from tests.queue_log_format import read_queue_log


def pause(at: int) -> QueueLogLine:
    return QueueLogLine(at, "NONE", "q", "Agent/a1", "PAUSE", ("lunch",))


def test_lines_after_a_rotation_go_to_the_new_file(tmp_path: Path) -> None:
    path = tmp_path / "log" / "queue_log"  # the folder is made when missing
    file = QueueLogFile(path)
    file.write([pause(1), pause(2)])
    path.rename(tmp_path / "queue_log.1")  # logrotate's move
    file.write([pause(3)])
    assert [e.time for e in read_queue_log(tmp_path / "queue_log.1")] == [1, 2]
    assert [e.time for e in read_queue_log(path)] == [3]
    path.write_text("")  # copytruncate
    file.write([pause(4)])
    assert read_queue_log(path)[0].time == 4  # appended at the cut, no hole of zeros
    path.unlink()  # deleted outright
    file.write([pause(5)])
    file.close()
    assert [e.time for e in read_queue_log(path)] == [5]
