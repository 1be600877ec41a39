"""The README's "Using it beside FreeSWITCH" followed on a stock FreeSWITCH configuration.

A new user starts from FreeSWITCH's packaged ("vanilla") configuration, not the sandbox's
generated one. This test copies the stock folder of the FreeSWITCH binary it finds, applies
the README's steps as the README writes them (every XML block of the section that starts
with a `file:` comment becomes that file; the `vars.xml` block goes first inside its
`<include>`; the shipped event_socket.conf.xml and ccgateway.xml are copied in), starts that
FreeSWITCH on its stock ports, registers a sipp phone as directory user 1001 with the stock
password (digest authentication, as a real phone does), runs `ccgateway serve` from the
installed package and talks to it over HTTP: the agent and queue of the README's step 8, a
sipp customer on the external profile routed to the phone, and the phone's `*73` reaching
the controller through the feature-code block.

It skips (never fails) when no FreeSWITCH binary or no stock configuration beside it is
found: $CCGW_FREESWITCH_BIN or `freeswitch` on PATH; the configuration at
$CCGW_FREESWITCH_STOCK_CONF, else `<binary>/../../etc/freeswitch`, else /etc/freeswitch. CI
has no FreeSWITCH (no package registry we reach carries it).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ccgateway.sandbox import SandboxError
from ccgateway.sandbox.freeswitch import find_binary
from ccgateway.sandbox.freeswitch_probes import EslRefused, esl_api
from ccgateway.sandbox.lock import asterisk_lock
from tests.installed.conftest import ServedController

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SECTION = "## Using it beside FreeSWITCH (or both)"
PLACEHOLDER = "CHANGE-ME-LONG-RANDOM"
PHONE_PLACEHOLDER = "CHANGE-ME-PHONE-PASSWORD"
SECRETS = "/etc/freeswitch-secrets"
ESL_PORT = 8021  # the stock event_socket port, kept by the shipped file
LOCK = Path("/tmp/ccgw-freeswitch.lock")  # the sandbox's lock: one FreeSWITCH test at a time
PHONE_PORT, CUSTOMER_PORT = 5311, 5312
# From loopback: the stock directory's example user "brian" is trusted by address for
# 192.0.2.0/24 (TEST-NET-1, this machine's network here), which would skip the challenge.
FEATURE_PORT = 5313
PROFILES = ("internal", "external")  # phones register on the first, carriers call the second


def _binary() -> Path | None:
    try:
        return find_binary()
    except SandboxError:
        return None


def _stock_conf(binary: Path | None) -> Path | None:
    given = os.environ.get("CCGW_FREESWITCH_STOCK_CONF")
    candidates = [Path(given)] if given else []
    if binary is not None:
        candidates.append(binary.resolve().parent.parent / "etc" / "freeswitch")
    candidates.append(Path("/etc/freeswitch"))
    return next((c for c in candidates if (c / "freeswitch.xml").is_file()), None)


BINARY = _binary()
STOCK = _stock_conf(BINARY)
pytestmark = [
    pytest.mark.freeswitch,
    pytest.mark.skipif(
        BINARY is None or STOCK is None,
        reason="no FreeSWITCH binary with a stock configuration ($CCGW_FREESWITCH_BIN, "
        "$CCGW_FREESWITCH_STOCK_CONF): FreeSWITCH is in no package registry we reach",
    ),
]


def readme_blocks() -> list[str]:
    """The fenced blocks of the README's FreeSWITCH section, in order."""
    text = README.read_text()
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n## ", len(SECTION))]
    return re.findall(r"```\w*\n(.*?)```", section, flags=re.S)


def dedent(block: str) -> str:
    lines = block.splitlines()
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    return "\n".join(line[indent:] for line in lines) + "\n"


def apply_readme(conf: Path, secrets_dir: Path, password: str, phone_password: str) -> list[str]:
    """The README's steps on a copy of the stock configuration; the files written."""
    written: list[str] = []
    for block in map(dedent, readme_blocks()):
        first, _, body = block.partition("\n")
        body = body.replace(PLACEHOLDER, password).replace(SECRETS, str(secrets_dir))
        if found := re.fullmatch(r"<!-- file: (\S+) -->", first.strip()):
            name = found.group(1)
            target = (
                secrets_dir / Path(name).relative_to(SECRETS)
                if name.startswith(SECRETS)
                else conf / name
            )
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body)
            written.append(name)
        elif first.strip() == "<!-- vars.xml: first line inside <include> -->":
            vars_xml = conf / "vars.xml"
            text = vars_xml.read_text()
            vars_xml.write_text(text.replace("<include>", "<include>\n" + body, 1))
            written.append("vars.xml")
        elif first.strip() == "<!-- vars.xml: instead of the default_password line -->":
            vars_xml = conf / "vars.xml"
            text = vars_xml.read_text()
            line = re.compile(r"^.*data=\"default_password=.*$", re.M)
            assert line.search(text), "no default_password line in the stock vars.xml"
            body = body.replace(PHONE_PLACEHOLDER, phone_password)
            vars_xml.write_text(line.sub(body.strip(), text, count=1))
            written.append("vars.xml: default_password")
    # steps 2 and 3: the shipped files
    shutil.copy(ROOT / "dialplans/freeswitch/event_socket.conf.xml", conf / "autoload_configs")
    shutil.copy(ROOT / "dialplans/freeswitch/ccgateway.xml", conf / "dialplan")
    # step 6: this machine cannot reach stun.freeswitch.org
    vars_xml = conf / "vars.xml"
    vars_xml.write_text(
        re.sub(
            r"(external_(?:rtp|sip)_ip=)stun:stun\.freeswitch\.org",
            r"\g<1>$${local_ip_v4}",
            vars_xml.read_text(),
        )
    )
    return written


REGISTER = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="register with digest authentication">
  <send retrans="500"><![CDATA[
REGISTER sip:[remote_ip] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[service]@[remote_ip]>;tag=[call_number]
To: <sip:[service]@[remote_ip]>
Call-ID: [call_id]
CSeq: 1 REGISTER
Contact: <sip:[service]@[local_ip]:[local_port]>
Expires: 600
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="401" auth="true"/>
  <send retrans="500"><![CDATA[
REGISTER sip:[remote_ip] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[service]@[remote_ip]>;tag=[call_number]
To: <sip:[service]@[remote_ip]>
Call-ID: [call_id]
CSeq: 2 REGISTER
Contact: <sip:[service]@[local_ip]:[local_port]>
[authentication username=USER password=PASSWORD]
Expires: 600
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>
</scenario>
"""

# The phone dials a feature code: INVITE, the profile's 407 challenge, INVITE again with the
# credentials, the answer, a moment of the tone, BYE (the call ends at once on its own too).
FEATURE_CALL = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="feature code with digest authentication">
  <send retrans="500"><![CDATA[
INVITE sip:CODE@[remote_ip] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:USER@[remote_ip]>;tag=[call_number]
To: <sip:CODE@[remote_ip]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:USER@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000

]]></send>
  <recv response="100" optional="true"/>
  <recv response="407" auth="true"/>
  <send><![CDATA[
ACK sip:CODE@[remote_ip] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:USER@[remote_ip]>;tag=[call_number]
To: <sip:CODE@[remote_ip]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
  <send retrans="500"><![CDATA[
INVITE sip:CODE@[remote_ip] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:USER@[remote_ip]>;tag=[call_number]
To: <sip:CODE@[remote_ip]>
Call-ID: [call_id]
CSeq: 2 INVITE
Contact: <sip:USER@[local_ip]:[local_port]>
[authentication username=USER password=PASSWORD]
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000

]]></send>
  <recv response="100" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:USER@[remote_ip]>;tag=[call_number]
To: <sip:CODE@[remote_ip]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv request="BYE" timeout="3000" ontimeout="hangup" optional="false"/>
  <send next="end"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <label id="hangup"/>
  <send><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:USER@[remote_ip]>;tag=[call_number]
To: <sip:CODE@[remote_ip]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 3 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>
  <label id="end"/>
</scenario>
"""


class StockFreeSwitch:
    """A FreeSWITCH on a copy of its stock configuration, every folder in `root`."""

    def __init__(self, binary: Path, stock: Path, root: Path) -> None:
        self.binary, self.root = binary, root
        self.conf = root / "conf"
        shutil.copytree(stock, self.conf)
        self.secrets = root / "secrets"
        self.secrets.mkdir(mode=0o700)
        self.password = secrets.token_urlsafe(24)
        self.phone_password = secrets.token_hex(8)
        self.written = apply_readme(self.conf, self.secrets, self.password, self.phone_password)
        self.folders = {n: root / n for n in ("log", "db", "run", "temp", "storage", "cache")}

    def start(self) -> None:
        for folder in self.folders.values():
            folder.mkdir()
        args = [x for name, folder in self.folders.items() for x in (f"-{name}", str(folder))]
        subprocess.run(
            [str(self.binary), "-nc", "-nonat", "-conf", str(self.conf), *args],
            check=True,
            capture_output=True,
            timeout=60,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status = self.api("sofia status")
                if all(re.search(rf"^\s*{p}\tprofile\t.*RUNNING", status, re.M) for p in PROFILES):
                    return
            except (OSError, EslRefused):
                pass
            time.sleep(0.5)
        pytest.fail(f"the stock FreeSWITCH did not start:\n{self.log()[-3000:]}")

    def api(self, command: str) -> str:
        return esl_api(self.password, command, port=ESL_PORT)

    def log(self) -> str:
        path = self.folders["log"] / "freeswitch.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        pid_file = self.folders["run"] / "freeswitch.pid"
        if not pid_file.exists():
            return
        pid = int(pid_file.read_text().strip())
        with_signal(pid, 15)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and alive(pid):
            time.sleep(0.2)
        if alive(pid):
            with_signal(pid, 9)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def with_signal(pid: int, signal: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal)


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as FreeSWITCH binds
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.fixture(scope="module")
def stock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StockFreeSwitch]:
    assert BINARY is not None and STOCK is not None
    with asterisk_lock(path=LOCK):
        if not port_free(ESL_PORT):
            pytest.skip(f"port {ESL_PORT} is taken: another FreeSWITCH runs here")
        switch = StockFreeSwitch(BINARY, STOCK, tmp_path_factory.mktemp("stock-fs"))
        try:
            switch.start()
            yield switch
        finally:
            switch.stop()


def sipp(*args: str, cwd: Path, background: bool = False) -> subprocess.CompletedProcess[bytes]:
    command = ["sipp", *args, "-trace_err", *(["-bg"] if background else [])]
    return subprocess.run(command, cwd=cwd, capture_output=True, timeout=60)


def wait_for(what: str, check: Callable[[], Any], within_s: float = 15.0) -> Any:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def test_the_readme_steps_route_a_call_on_a_stock_freeswitch(
    stock: StockFreeSwitch, launch_controller: Callable[..., ServedController], tmp_path: Path
) -> None:
    assert set(stock.written) >= {
        "/etc/freeswitch-secrets/esl.xml",
        "vars.xml",
        "vars.xml: default_password",
        "dialplan/public/01_ccgateway.xml",
        "dialplan/default/01_ccgw_features.xml",
    }
    # step 2: the stock password no longer opens the Event Socket
    with pytest.raises(EslRefused):
        esl_api("ClueCon", "version", port=ESL_PORT)
    address = stock.api("global_getvar local_ip_v4").strip()
    user_password = stock.api("global_getvar default_password").strip()
    assert user_password == stock.phone_password

    # step 4: a phone registers as directory user 1001, with digest authentication
    register = REGISTER.replace("USER", "1001").replace("PASSWORD", user_password)
    (tmp_path / "register.xml").write_text(register)
    registered = sipp(
        f"{address}:5060", "-sf", "register.xml", "-s", "1001", "-i", address,
        "-p", str(PHONE_PORT), "-m", "1", "-timeout", "10", cwd=tmp_path,
    )  # fmt: skip
    assert registered.returncode == 0, registered.stdout.decode()[-2000:]
    wait_for(  # sofia writes registrations to its database a moment later
        "the registration", lambda: f"{address},{PHONE_PORT}" in stock.api("show registrations")
    )
    phone = sipp(
        "-sn", "uas", "-i", address, "-p", str(PHONE_PORT), "-trace_msg",
        "-message_file", "phone.msg", cwd=tmp_path, background=True,
    )  # fmt: skip
    started = re.search(rb"Background mode - PID=\[(\d+)\]", phone.stdout)  # sipp -bg: rc 99
    assert started, phone.stdout
    phone_pid = int(started.group(1))

    # step 7: `ccgateway serve` with the README's settings
    password_file = tmp_path / "freeswitch-password"
    password_file.write_text(stock.password + "\n")
    password_file.chmod(0o600)
    served = launch_controller(
        env={
            "CCGW_ASTERISK__ENABLED": "false",
            "CCGW_FREESWITCH__ENABLED": "true",
            "CCGW_FREESWITCH__PORT": str(ESL_PORT),
            "CCGW_FREESWITCH__PASSWORD_FILE": str(password_file),
        }
    )
    try:
        with httpx.Client(base_url=served.base_url, headers=served.auth, timeout=5) as api:
            health = wait_for(
                "the FreeSWITCH link",
                lambda: (h := api.get("/v1/health").json())["pbxes"].get("freeswitch") and h,
            )
            assert health["pbx_ready"] is True
            # step 8
            for path, body in (
                ("/v1/skills", {"id": "sales", "name": "Sales"}),
                (
                    "/v1/agents",
                    {"id": "ann", "name": "Ann", "device": "user/1001", "pbx": "freeswitch",
                     "skills": {"sales": 7}},
                ),
                (
                    "/v1/queues",
                    {"id": "sales", "name": "Sales", "extension": "300", "pbx": "freeswitch",
                     "requires": {"sales": 1}},
                ),
            ):  # fmt: skip
                response = api.post(path, json=body)
                assert response.status_code == 201, response.text
            assert api.get("/v1/agents/ann").json()["state"] == "logged_out"
            wait_for(
                "the phone's registration on the agent",
                lambda: api.get("/v1/agents/ann").json()["device_state"] == "available",
            )
            response = api.post("/v1/agents/ann/state", json={"state": "available"})
            assert response.status_code == 200, response.text

            # a customer on the external profile dials 300
            customer = sipp(
                f"{address}:5080", "-sn", "uac", "-s", "300", "-i", address,
                "-p", str(CUSTOMER_PORT), "-m", "1", "-d", "3000", "-timeout", "30",
                cwd=tmp_path,
            )  # fmt: skip
            assert customer.returncode == 0, customer.stdout.decode()[-2000:]
            record = wait_for(
                "the call's record",
                lambda: next(iter(api.get("/v1/interactions").json()), None),
            )
            assert record["queue_id"] == "sales" and record["agent_id"] == "ann"
            assert record["outcome"] == "answered"
            assert 2.5 < record["talk_s"] < 5.0, record
            wait_for(
                "the agent out of wrap-up",
                lambda: api.get("/v1/agents/ann").json()["state"] in ("wrap_up", "available"),
            )

            # step 3's feature codes: *73 from the phone logs Ann out
            call = FEATURE_CALL.replace("USER", "1001").replace("PASSWORD", user_password)
            (tmp_path / "feature.xml").write_text(call.replace("CODE", "*73"))
            dialled = sipp(
                f"{address}:5060", "-sf", "feature.xml", "-s", "*73", "-i", "127.0.0.1",
                "-p", str(FEATURE_PORT), "-m", "1", "-timeout", "15", cwd=tmp_path,
            )  # fmt: skip
            assert dialled.returncode == 0, dialled.stdout.decode()[-2000:]
            wait_for(
                "*73 to log Ann out",
                lambda: api.get("/v1/agents/ann").json()["state"] == "logged_out",
            )
    finally:
        with_signal(phone_pid, 9)
        served.close()
