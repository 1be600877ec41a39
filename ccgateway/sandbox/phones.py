"""sipp as the agents' phones (UAS) and as customers (UAC): command lines and call batches.

Customers and ports: every `call` runs its own sipp on a free UDP port rather than on the
trunk's 5090, so any number of `call`s can run at once, each with its own hang-up time,
without colliding on one port or waiting for each other. The trunk endpoint knows these
callers by the `X-CCGW-Trunk: customers` header they send (pjsip.conf, identify
`match_header`); 127.0.0.1:5090 still identifies the trunk for anything sent from there.
"""

from __future__ import annotations

import csv
import re
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ccgateway.sandbox import audio, processes
from ccgateway.sandbox.asterisk_config import (
    SIP_PORT,
    TRUNK_HEADER,
    TRUNK_PORT,
    phone_media_port,
    phone_port,
)
from ccgateway.sandbox.errors import SandboxError

PHONE_MODES = ("answer", "noanswer", "busy", "off", "keys")
# The outside world (no agent, so no "keys") may also be the callees of an outbound campaign
# (scenarios/callee.xml): what each call does is chosen by the dialled number.
OUTSIDE_MODES = ("answer", "noanswer", "busy", "off", "callee")
MAX_CALLS = 200
MAX_LOG_BYTES = 256 * 1024
CALLER_PATTERN = re.compile(r"[A-Za-z0-9+*#._-]{1,32}")
MAX_NAME = 64  # characters of a caller's display name
# keys: answers, then presses *0 (the in-call recording feature) 3 s and 6 s after the answer
_SCENARIOS = {
    "noanswer": "agent_noanswer.xml",
    "busy": "agent_busy.xml",
    "keys": "agent_keys.xml",
}
SPEECH = "/usr/share/sip-tester/g711a.pcap"  # 7 s of PCMA speech, shipped with sip-tester


def check_mode(mode: str) -> None:
    if mode not in PHONE_MODES:
        raise SandboxError(f"phone mode must be one of {', '.join(PHONE_MODES)}, not {mode!r}")


def check_outside_mode(mode: str) -> None:
    if mode not in OUTSIDE_MODES:
        raise SandboxError(f"outside mode must be one of {', '.join(OUTSIDE_MODES)}, not {mode!r}")


def start_phone(
    agent: int,
    mode: str,
    log_dir: Path,
    port: int | None = None,
    media_port: int | None = None,
) -> int | None:
    """Start agent `agent`'s phone in `mode`; its pid, or None for `off` (no phone at all).
    `port` and `media_port` default to the Asterisk sandbox's (asterisk_config.phone_port,
    phone_media_port)."""
    check_mode(mode)
    log = log_dir / f"phone{agent}.log"
    marker = phone_marker(log_dir, agent)
    messages = phone_messages(log_dir, agent)
    port = phone_port(agent) if port is None else port
    media_port = phone_media_port(agent) if media_port is None else media_port
    return _start_uas(port, media_port, mode, marker, log, messages)


def phone_messages(log_dir: Path, agent: int) -> Path:
    """Where agent `agent`'s phone logs every SIP message it sends and receives (the
    INVITEs' headers, e.g. an auto-answer header); started afresh at MAX_LOG_BYTES."""
    return log_dir / f"phone{agent}.messages"


def start_outside(
    mode: str, log_dir: Path, port: int = TRUNK_PORT, media_port: int = 16600
) -> int | None:
    """The outside world behind the trunk (127.0.0.1:5090; the FreeSWITCH sandbox's on its
    own port): whatever number the PBX dials out (a callback, a transfer to a number, a
    campaign's customer) reaches this one phone, in `mode`; in `callee` mode each call
    behaves as its number says (callee.xml)."""
    check_outside_mode(mode)
    scenario = write_callee_scenario(log_dir) if mode == "callee" else None
    log, messages = log_dir / "outside.log", outside_messages(log_dir)
    return _start_uas(port, media_port, mode, outside_marker(log_dir), log, messages, scenario)


def udp_port_bound(port: int) -> bool:
    """True if something listens on UDP 127.0.0.1:`port` (a phone's sipp is up)."""
    want = f"0100007F:{port:04X}"
    try:
        with open("/proc/net/udp") as table:
            return any(line.split()[1] == want for line in list(table)[1:])
    except OSError:
        return False


def outside_marker(log_dir: Path) -> Path:
    return log_dir / "outside.errors"


def outside_messages(log_dir: Path) -> Path:
    """The outside phone's SIP messages, with sipp's timestamps (bounded like the phones')."""
    return log_dir / "outside.messages"


def write_callee_scenario(log_dir: Path) -> Path:
    """callee.xml with the paths of its recordings, in `log_dir`; makes the recordings
    (audio.py) if they are not there yet."""
    audio_dir = log_dir / "audio"
    paths = {name: audio.recording_path(audio_dir, name) for name in audio.RECORDINGS}
    if not all(path.exists() for path in paths.values()):
        paths = audio.write_recordings(audio_dir)
    text = Path(_scenario("callee.xml")).read_text()
    for name, path in paths.items():
        text = text.replace(f"@{name.upper()}@", str(path))
    scenario = log_dir / "callee.xml"
    scenario.write_text(text)
    return scenario


def _start_uas(
    port: int,
    media_port: int,
    mode: str,
    marker: Path,
    log_path: Path,
    messages: Path,
    scenario_file: Path | None = None,
) -> int | None:
    if mode == "off":
        return None
    _require_sipp()
    if scenario_file is not None:
        scenario = ["-sf", str(scenario_file)]
    else:
        scenario = ["-sn", "uas"] if mode == "answer" else ["-sf", _scenario(_SCENARIOS[mode])]
    command = [
        "sipp",
        *scenario,
        "-i", "127.0.0.1",
        "-p", str(port),
        "-mp", str(media_port),
        "-aa",  # answers the PBX's OPTIONS (qualify): that is what makes the phone reachable
        "-nostdin",
        "-trace_err", "-error_file", str(marker),
        "-trace_msg", "-message_file", str(messages),
        # -aa notes every OPTIONS in both: about 1 MB a day per phone without a bound. A log
        # that reaches the size starts afresh; sipp keeps the one before it as
        # <scenario>_<pid>_messages_<time>.log (or _errors_) in the state folder.
        "-ringbuffer_files", "1", "-ringbuffer_size", str(MAX_LOG_BYTES),
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=messages.parent,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
    return process.pid


def phone_marker(log_dir: Path, agent: int) -> Path:
    """The path on a phone's command line that tells our sipp from any other."""
    return log_dir / f"phone{agent}.errors"


def stop_phone(pid: int | None, agent: int, log_dir: Path) -> None:
    processes.stop(pid, processes.sipp(phone_marker(log_dir, agent)))


def is_phone_alive(pid: int | None, agent: int, log_dir: Path) -> bool:
    return processes.is_ours(pid, processes.sipp(phone_marker(log_dir, agent)))


@dataclass(frozen=True)
class CallOutcome:
    completed: int  # calls that were answered and ended normally (by either side)
    failed: int  # calls rejected, unanswered or broken off (sipp's "Failed call")


class CallBatch:
    """Customer calls placed by one sipp process; `wait()` says how they ended."""

    def __init__(self, workdir: Path, count: int, process: subprocess.Popen[bytes]) -> None:
        self.workdir = workdir
        self.count = count
        self.pid = process.pid
        self._process = process

    def is_running(self) -> bool:
        return self._process.poll() is None

    def wait(self, timeout_s: float | None = None) -> CallOutcome:
        """Wait for every call of the batch to end; raises SandboxError on timeout."""
        try:
            self._process.wait(timeout_s)
        except subprocess.TimeoutExpired as exc:
            raise SandboxError(f"calls still running after {timeout_s} s") from exc
        outcome = read_outcome(self.workdir)
        if outcome is None:
            log = (self.workdir / "sipp.log").read_text(errors="replace")[-1500:]
            raise SandboxError(f"sipp left no statistics (exit {self._process.returncode}):\n{log}")
        return outcome

    def stop(self) -> None:
        processes.stop(self.pid, processes.sipp(self.workdir / "errors.log"))


def place_calls(
    workdir: Path,
    extension: str,
    count: int,
    hangup_after_s: float,
    caller: str | None,
    key: str | None = None,
    key_every_s: float = 2.0,
    speak_after: float | None = None,
    name: str | None = None,
    pbx_port: int = SIP_PORT,
) -> CallBatch:
    """Start `count` simultaneous customer calls to `extension` from one sipp in `workdir`.
    With `key`, each customer presses it every `key_every_s` once answered (and hangs up
    after `hangup_after_s` all the same); with `speak_after`, says something (7 s of
    audio) that many seconds after the answer. `name` is every caller's display name
    (default "Customer N"); any printable text but `;` (see `check_name`). The calls go to
    the PBX's SIP port `pbx_port` on 127.0.0.1 (default: the Asterisk sandbox's)."""
    if not extension.isdigit() or len(extension) > 32:
        raise SandboxError(f"the extension must be digits, not {extension!r}")
    if not 1 <= count <= MAX_CALLS:
        raise SandboxError(f"--count must be 1-{MAX_CALLS}")
    if not 0 < hangup_after_s <= 86_400:
        raise SandboxError("--hangup-after must be more than 0 s (and at most a day)")
    if caller is not None and not CALLER_PATTERN.fullmatch(caller):
        raise SandboxError(f"caller must be 1-32 of A-Z a-z 0-9 + * # . _ -, not {caller!r}")
    if name is not None:
        check_name(name)
    _require_sipp()
    if key is not None and not re.fullmatch(r"[0-9*#]", key):
        raise SandboxError(f"the key must be one of 0-9 * #, not {key!r}")
    hangup_ms = max(1, round(hangup_after_s * 1000))
    header, value = TRUNK_HEADER
    scenario_name = "customer.xml" if key is None else "customer_key.xml"
    template = resources.files("ccgateway.sandbox").joinpath(f"scenarios/{scenario_name}")
    scenario = template.read_text().replace("@HANGUP_MS@", str(hangup_ms))
    media, audio = ("m=audio [media_port] RTP/AVP 0\n      a=rtpmap:0 PCMU/8000", "")
    if speak_after is not None:  # a BYE from the PBX meanwhile ends the call as failed
        media = "m=audio [media_port] RTP/AVP 8\n      a=rtpmap:8 PCMA/8000"
        pause = f'<pause milliseconds="{max(0, round(speak_after * 1000))}"/>'
        audio = pause + f'<nop><action><exec play_pcap_audio="{SPEECH}"/></action></nop>'
    scenario = scenario.replace("@MEDIA@", media).replace("@AUDIO@", audio)
    if key is not None:
        every_ms = max(200, round(key_every_s * 1000))
        presses = max(1, hangup_ms // every_ms)
        scenario = scenario.replace("@KEY@", key).replace("@EVERY_MS@", str(every_ms))
        scenario = scenario.replace("@PRESSES@", str(presses))
    (workdir / "customer.xml").write_text(scenario.replace("@TRUNK_HEADER@", f"{header}: {value}"))
    with open(workdir / "callers.csv", "w") as callers:
        callers.write("SEQUENTIAL\n")
        for i in range(count):
            number = caller or f"+4930{secrets.randbelow(9_000_000) + 1_000_000}"
            display = quoted_display(name if name is not None else f"Customer {i + 1}")
            callers.write(f"{number};{display}\n")
    command = [
        "sipp",
        "-sf", "customer.xml",
        "-inf", "callers.csv",
        "-i", "127.0.0.1",
        "-p", str(_free_udp_port()),
        "-mp", str(_free_udp_port()),
        "-s", extension,
        "-m", str(count), "-l", str(count), "-r", str(count),
        "-timeout", str(int(hangup_after_s) + 120),
        "-nostdin",
        "-trace_stat", "-stf", "stats.csv",
        "-trace_err", "-error_file", str(workdir / "errors.log"),
        f"127.0.0.1:{pbx_port}",
    ]  # fmt: skip
    with open(workdir / "sipp.log", "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    (workdir / "sipp.pid").write_text(f"{process.pid}\n")
    return CallBatch(workdir, count, process)


def check_name(name: str) -> None:
    """A caller's display name: 1-MAX_NAME printable characters (`<`, `>`, `"`, `'`, `&`,
    `/` and the like are fine: they are what hostile callers send), but no `;` (sipp's
    field separator in the callers file) and no line break or other control character
    (one line per caller)."""
    if not 1 <= len(name) <= MAX_NAME:
        raise SandboxError(f"the caller's name must be 1-{MAX_NAME} characters, not {len(name)}")
    if ";" in name:
        raise SandboxError(f"the caller's name may not contain ';' (sipp's separator): {name!r}")
    if any(not ch.isprintable() for ch in name):
        raise SandboxError(f"the caller's name may not contain control characters: {name!r}")


def quoted_display(name: str) -> str:
    """`name` as the inside of a SIP quoted-string (RFC 3261 25.1): `\\` and `"` escaped
    with a backslash, so a `"` in the name cannot end the display name early."""
    return name.replace("\\", "\\\\").replace('"', '\\"')


def read_outcome(workdir: Path) -> CallOutcome | None:
    """The cumulative counts in the last line of sipp's statistics file."""
    try:
        rows = list(csv.DictReader((workdir / "stats.csv").open(), delimiter=";"))
    except OSError:
        return None
    if not rows:
        return None
    last = rows[-1]
    return CallOutcome(int(last["SuccessfulCall(C)"]), int(last["FailedCall(C)"]))


def stop_batches(state_dir: Path, remove: bool) -> None:
    """Stop every customer sipp still running; `remove` also deletes their work folders."""
    for workdir in state_dir.glob("call-*"):
        pid = processes.read_pid(workdir / "sipp.pid")
        processes.stop(pid, processes.sipp(workdir / "errors.log"))
        if remove:
            shutil.rmtree(workdir, ignore_errors=True)


def prune_batches(state_dir: Path, older_than_s: float = 600.0) -> None:
    """Delete the work folders of batches that ended a while ago."""
    now = time.time()
    for workdir in state_dir.glob("call-*"):
        pid = processes.read_pid(workdir / "sipp.pid")
        if processes.is_ours(pid, processes.sipp(workdir / "errors.log")):
            continue
        try:
            idle = now - (workdir / "sipp.log").stat().st_mtime
        except OSError:
            continue
        if idle > older_than_s:
            shutil.rmtree(workdir, ignore_errors=True)


def _scenario(name: str) -> str:
    return str(resources.files("ccgateway.sandbox").joinpath(f"scenarios/{name}"))


def _require_sipp() -> None:
    if shutil.which("sipp") is None:
        raise SandboxError("sipp is missing: apt-get install sip-tester")


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
