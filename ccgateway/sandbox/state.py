"""What a running sandbox is made of, kept in state.json so separate commands share it."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

DEFAULT_STATE_DIR = Path("/var/lib/ccgateway/sandbox")


def state_dir() -> Path:
    return Path(os.environ.get("CCGW_SANDBOX_STATE", str(DEFAULT_STATE_DIR)))


@dataclass
class State:
    agents: int = 0
    phones: dict[int, str] = field(default_factory=dict)  # agent -> phone mode
    phone_pids: dict[int, int] = field(default_factory=dict)  # agent -> sipp pid
    asterisk_pid: int | None = None
    hold_timeout_s: int = 900
    outside: str = "answer"  # the phone behind the trunk (callbacks, transfers to a number)
    outside_pid: int | None = None


def load(path: Path) -> State:
    """The saved state, or an empty one if there is none (or it is unreadable)."""
    try:
        raw = json.loads(path.read_text())
        return State(
            agents=int(raw.get("agents", 0)),
            phones={int(k): str(v) for k, v in raw.get("phones", {}).items()},
            phone_pids={int(k): int(v) for k, v in raw.get("phone_pids", {}).items()},
            asterisk_pid=raw.get("asterisk_pid"),
            hold_timeout_s=int(raw.get("hold_timeout_s", 900)),
            outside=str(raw.get("outside", "answer")),
            outside_pid=raw.get("outside_pid"),
        )
    except (OSError, ValueError, AttributeError, TypeError):
        return State()


def save(path: Path, state: State) -> None:
    """Write atomically: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(state), indent=2) + "\n")
    tmp.replace(path)
