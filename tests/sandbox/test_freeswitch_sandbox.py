"""The FreeSWITCH sandbox on a real FreeSWITCH: up, the Event Socket login with the generated
password, a sipp customer routed through the controller to a sipp agent phone (checked on
FreeSWITCH's own CHANNEL_BRIDGE event, read on a raw ESL connection of the test's own), and
down leaving no process behind.

FreeSWITCH is in no package registry this project reaches, so these tests skip (never fail,
not even with CI=true) when no binary is found: $CCGW_FREESWITCH_BIN, else `freeswitch` on
PATH. To run them, build FreeSWITCH 1.10 from source outside the repository ("Building a
FreeSWITCH to test on" in ccgateway/pbx/freeswitch/README.md) and point CCGW_FREESWITCH_BIN
at it.
"""

from __future__ import annotations

import asyncio
import json
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ccgateway.app import build_controller
from ccgateway.sandbox.freeswitch import FreeSwitchSandbox
from ccgateway.sandbox.freeswitch_config import ESL_PORT, SIP_PORT, phone_port
from ccgateway.sandbox.freeswitch_probes import EslRefused, esl_api
from ccgateway.sandbox.lock import asterisk_lock
from ccgateway.sandbox.phones import udp_port_bound
from ccgateway.settings import Settings
from tests.sandbox.esl_observer import EslObserver
from tests.sandbox.freeswitch_e2e import BINARY, LOCK, MARKS

ADMIN = "fs-sandbox-admin-key-0123"


pytestmark = [
    *MARKS,
]


@pytest.fixture(scope="module")
def freeswitch_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreeSwitchSandbox]:
    with asterisk_lock(path=LOCK):
        sandbox = FreeSwitchSandbox(tmp_path_factory.mktemp("fs-sandbox"))
        try:
            sandbox.up(agents=2, binary=BINARY)
            yield sandbox
        finally:
            sandbox.down()


def test_the_event_socket_takes_the_generated_password_only(
    freeswitch_sandbox: FreeSwitchSandbox,
) -> None:
    password_file = freeswitch_sandbox.password_file
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    password = password_file.read_text().strip()
    assert len(password) >= 24
    assert "FreeSWITCH" in esl_api(password, "version")
    with pytest.raises(EslRefused):
        esl_api("ClueCon", "version")
    # the password is nowhere in the generated configuration but the 0600 include
    conf = freeswitch_sandbox.conf_dir
    assert not [p for p in conf.rglob("*.xml") if password in p.read_text()]
    status = freeswitch_sandbox.status()
    assert status.running and status.esl == f"127.0.0.1:{ESL_PORT}"
    assert all(p.alive and p.registered for p in status.phones), status.phones


async def test_a_customer_reaches_an_agent_phone_through_the_controller(
    freeswitch_sandbox: FreeSwitchSandbox, tmp_path: Path
) -> None:
    observer = EslObserver(freeswitch_sandbox.esl_password())
    await observer.start()
    controller = build_controller(
        Settings(
            database_url=f"sqlite:///{tmp_path}/ccgateway.db",
            admin_key=ADMIN,
            asterisk={"enabled": False},
            freeswitch={
                "enabled": True,
                "port": ESL_PORT,
                "password_file": freeswitch_sandbox.password_file,
            },
        )
    )
    task = asyncio.create_task(controller.dispatcher.run())
    api = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=controller.api),
        base_url="http://ccgw",
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    try:

        async def post(path: str, body: dict[str, Any]) -> None:
            response = await api.post(path, json=body)
            assert response.status_code < 300, response.text

        await until("the FreeSWITCH link", lambda: _ready(api))
        await post("/v1/skills", {"id": "en", "name": "English"})
        await post(
            "/v1/queues",
            {"id": "fs", "name": "F", "extension": "300", "requires": {"en": 5},
             "ring_timeout_s": 8, "wrapup_s": 1, "pbx": "freeswitch"},
        )  # fmt: skip
        for k, level in ((1, 3), (2, 8)):  # agent1 is under-skilled: agent2 must get the call
            await post(
                "/v1/agents",
                {"id": f"agent{k}", "name": f"Agent {k}", "device": f"user/100{k}",
                 "skills": {"en": level}, "pbx": "freeswitch"},
            )  # fmt: skip
            await post(f"/v1/agents/agent{k}/state", {"state": "available"})

        batch = await asyncio.to_thread(
            freeswitch_sandbox.call, "300", hangup_after=5, caller="+4930777001"
        )
        bridge = await until(
            "FreeSWITCH's CHANNEL_BRIDGE", lambda: observer.named("CHANNEL_BRIDGE")
        )
        channels = esl_api(freeswitch_sandbox.esl_password(), "show channels")
        outcome = await asyncio.to_thread(batch.wait, 30)
        assert outcome.completed == 1, outcome

        records = await until("the interaction record", lambda: _interactions(api))
        assert records[0]["outcome"] == "answered" and records[0]["agent_id"] == "agent2"
        # FreeSWITCH's own word: the customer's leg was bridged to 1002's registered contact.
        names = {bridge[0].get("Caller-Channel-Name"), bridge[0].get("Other-Leg-Channel-Name")}
        assert any(f"1002@127.0.0.1:{phone_port(2)}" in (n or "") for n in names), bridge[0]
        assert any("+4930777001" in (n or "") for n in names), bridge[0]
        assert "+4930777001" in channels and f"{phone_port(2)}" in channels, channels
        assert len(observer.named("CHANNEL_BRIDGE")) == 1
    finally:
        await api.aclose()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await controller.dispatcher.pbx.close()
        await observer.stop()
        controller.engine.dispose()


async def test_hold_music_the_fallback_and_voicemail_play_what_the_sandbox_made(
    freeswitch_sandbox: FreeSwitchSandbox,
) -> None:
    """No controller: the test moves the callers itself, as the adapter would."""
    password = freeswitch_sandbox.esl_password()
    observer = EslObserver(password)
    await observer.start()
    try:
        for caller in ("+4930777101", "+4930777102"):
            await asyncio.to_thread(
                freeswitch_sandbox.call, "290", hangup_after=20, caller=caller, speak_after=3
            )
        uuids = await until(
            "two parked callers", lambda: _parked(password, "+4930777101", "+4930777102")
        )
        music, mail = uuids["+4930777101"], uuids["+4930777102"]

        esl_api(password, f"uuid_broadcast {music} local_stream://moh aleg")
        await asyncio.sleep(1.5)  # a stream that cannot open ends at once (EXECUTE_COMPLETE)
        assert not _completed(observer, music), _completed(observer, music)
        esl_api(password, f"uuid_transfer {music} s XML ccgw-fallback")
        played = await until(
            "the fallback's two prompts", lambda: len(_completed(observer, music)) >= 3
        )
        assert played
        responses = [e.get("Application-Response") for e in _completed(observer, music)]
        assert responses[1:3] == ["FILE PLAYED", "FILE PLAYED"], responses

        esl_api(password, f"uuid_setvar {mail} ccgw_mailbox 200")
        esl_api(password, f"uuid_transfer {mail} s XML ccgw-voicemail")
        box = freeswitch_sandbox.state_dir / "storage/voicemail/default/127.0.0.1/200"
        await until("a voicemail message", lambda: list(box.glob("msg_*.wav")), 25)
    finally:
        await observer.stop()


def test_down_leaves_no_process_and_frees_every_port(freeswitch_sandbox: FreeSwitchSandbox) -> None:
    status = freeswitch_sandbox.status()
    pids = [status.pid, *(p.pid for p in status.phones)]
    assert all(pids), status
    freeswitch_sandbox.down()
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in pids if _alive(pid)]
    assert not freeswitch_sandbox.status().running
    ports = (SIP_PORT, *(phone_port(k) for k in (1, 2)))
    # Every pid above gone, /proc/net/udp has twice still listed SIP_PORT, and `ss` run
    # right after showed no socket on it and no FreeSWITCH left: freed a moment later. So
    # the ports get the rest of the same deadline; past it, who holds them is said.
    while (bound := [p for p in ports if udp_port_bound(p)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not bound, (bound, _holders(bound))
    with pytest.raises(OSError):
        esl_api(freeswitch_sandbox.esl_password(), "status", timeout_s=1)


# --- helpers -------------------------------------------------------------------------------


def _holders(ports: list[int]) -> str:
    """`ss`'s word on who has these UDP ports bound, and every FreeSWITCH process left."""
    try:
        found = subprocess.run(["ss", "-uapn"], capture_output=True, text=True, check=False)
        left = subprocess.run(["pgrep", "-a", "freeswitch"], capture_output=True, text=True)
    except OSError as exc:  # no ss or pgrep on this machine
        return str(exc)
    lines = [line for line in found.stdout.splitlines() if any(f":{p} " in line for p in ports)]
    return "\n".join([*lines, "freeswitch processes: " + (left.stdout.strip() or "none")])


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def until(what: str, check: Callable[[], Any], timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.25)


def _parked(password: str, *callers: str) -> dict[str, str] | None:
    rows = json.loads(esl_api(password, "show channels as json")).get("rows", [])
    found = {r["cid_num"]: r["uuid"] for r in rows if r.get("application") == "park"}
    return found if all(c in found for c in callers) else None


def _completed(observer: EslObserver, uuid: str) -> list[dict[str, str]]:
    return [
        e
        for e in observer.named("CHANNEL_EXECUTE_COMPLETE")
        if e.get("Unique-ID") == uuid and e.get("Application") == "playback"
    ]


async def _ready(api: httpx.AsyncClient) -> bool:
    response = await api.get("/v1/health")
    return response.status_code == 200 and bool(response.json().get("pbx_ready"))


async def _interactions(api: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await api.get("/v1/interactions")
    return list(response.json())
