"""Demo traffic for `make run`: seeds a small centre through the REST API, then places a
trickle of customer calls into the sandbox PBX so the API has something to show, while a
blended outbound campaign calls the sandbox's callees (people, answering machines, busy
lines: the outside phone in `callee` mode) with the agents inbound does not need."""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ANNOUNCE: dict[str, Any] = {
    "position": True,
    "wait_time": True,
    "first_s": 15,
    "every_s": 45,
    "offer_callback": True,
}
QUEUES: list[dict[str, Any]] = [
    {
        "id": "support",
        "name": "Support (English)",
        "extension": "200",
        "requires": {"en": 5},
        "announce": ANNOUNCE,
        "last_agent_wait_s": 15,
    },
    {
        "id": "billing",
        "name": "Billing",
        "extension": "201",
        "requires": {"billing": 5},
        "relaxation": [{"after_s": 30, "overflow_to": "support"}],
        "limits": {"max_wait_s": 300, "on_max_wait": {"kind": "voicemail", "target": "201@ccgw"}},
    },
    {
        "id": "german",
        "name": "Support (German)",
        "extension": "202",
        "requires": {"de": 5},
        "announce": ANNOUNCE,
    },
]
SKILL_SETS = [{"en": 8, "billing": 6}, {"en": 6, "de": 9}, {"de": 7, "billing": 5}]
OUTREACH_QUEUE: dict[str, Any] = {
    "id": "outreach",
    "name": "Outreach (campaign calls)",
    "extension": "290",
    "requires": {"en": 5},
}
CAMPAIGN: dict[str, Any] = {
    "id": "winter-survey",
    "name": "Winter customer survey",
    "purpose": "research",
    "rule_set_id": "uk",
    "mode": "predictive",
    "queue_id": "outreach",
    "caller_id": "+442071234567",
    "caller_name": "Example Ltd",
    "abandon_message": "all-circuits-busy-now",
    "ring_s": 20,
    "amd": {"enabled": True, "machine_action": "hang_up"},
    "blend": {"inbound_queue_ids": ["support"], "min_reserve": 1, "max_reserve": 3},
    "script": {
        "text": "Hello {name}, a two-question survey from Example Ltd.",
        "questions": [
            {"id": "satisfied", "text": "Are you satisfied with us?", "kind": "yes_no"},
            {"id": "score", "text": "From 0 to 10?", "kind": "scale", "minimum": 0, "maximum": 10},
        ],
    },
}
# What the sandbox's callees do, by the first of the number's last six digits (K RR TTT:
# sandbox/scenarios/callee.xml): 1 a person, 2 a machine, 3 never answers, 4 busy, 5 invalid.
CALLEE_MIX = [(1, 0.6), (2, 0.15), (3, 0.1), (4, 0.1), (5, 0.05)]
DAYTIME_ZONES = ("Europe/London", "America/New_York", "America/Los_Angeles", "Pacific/Auckland",
                 "Asia/Tokyo", "Asia/Kolkata", "Europe/Moscow", "America/Sao_Paulo")  # fmt: skip


class Api:
    def __init__(self, url: str, key: str) -> None:
        self.url, self.key = url.rstrip("/"), key

    def call(self, method: str, path: str, body: object | None = None) -> tuple[int, object]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def send(self, method: str, path: str, text: str, content_type: str) -> tuple[int, object]:
        """A raw body (a CSV list, a register's numbers)."""
        request = urllib.request.Request(
            self.url + path,
            data=text.encode(),
            method=method,
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": content_type},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def wait_until_up(self, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if self.call("GET", "/v1/health")[0] == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("demo: the controller's API did not come up")
            time.sleep(1.0)


def seed(api: Api, agents: int) -> None:
    for skill in ("en", "de", "billing"):
        api.call("POST", "/v1/skills", {"id": skill, "name": skill})
    for queue in sorted(QUEUES, key=lambda q: q["id"] != "support"):  # overflow target first
        api.call("POST", "/v1/queues", {**queue, "ring_timeout_s": 15, "wrapup_s": 5})
    for k in range(1, agents + 1):
        agent = {
            "id": f"agent{k}",
            "name": f"Agent {k}",
            "device": f"PJSIP/agent{k}",
            "skills": SKILL_SETS[(k - 1) % len(SKILL_SETS)],
        }
        api.call("POST", "/v1/agents", agent)
        api.call("POST", f"/v1/agents/agent{k}/state", {"state": "available"})


def create_users(api: Api, agents: int, passwords_file: Path) -> None:
    """People to sign in to the pages as: an admin, a supervisor whose phone is the sandbox's
    phone after the agents' (for listen, whisper and barge), a wallboard and one per agent.
    Their passwords are kept in `passwords_file` (0600) and used again on the next run."""
    known: dict[str, str] = {}
    if passwords_file.exists():
        for line in passwords_file.read_text().splitlines():
            name, sep, password = line.partition(" ")
            if sep:
                known[name] = password
    users: list[dict[str, Any]] = [
        {"username": "admin", "role": "admin"},
        {"username": "supervisor", "role": "supervisor", "device": f"PJSIP/agent{agents + 1}"},
        {"username": "wallboard", "role": "wallboard"},
    ]
    users += [
        {"username": f"agent{k}", "role": "agent", "agent_id": f"agent{k}"}
        for k in range(1, agents + 1)
    ]
    for user in users:
        name = user["username"]
        password = known.setdefault(name, secrets.token_urlsafe(12))
        status, body = api.call("POST", "/v1/users", {**user, "password": password})
        if status == 409:  # made by an earlier run: its password is the one kept
            continue
        if status >= 300:
            raise SystemExit(f"demo: could not create user {name}: {status} {body}")
    fd = os.open(passwords_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.writelines(f"{name} {password}\n" for name, password in known.items())


def start_campaign(api: Api, rng: random.Random, contacts: int = 80) -> str:
    """The blended survey campaign with a list of the sandbox's callees; what happened."""
    zone = next(
        (z for z in DAYTIME_ZONES if 9 <= datetime.now(UTC).astimezone(ZoneInfo(z)).hour < 20),
        None,
    )
    if zone is None:
        return "no callee zone is in its calling hours now: the campaign waits"
    api.call("POST", "/v1/queues", {**OUTREACH_QUEUE, "ring_timeout_s": 6, "wrapup_s": 5})
    api.send("PUT", "/v1/dnc/registers/tps", "+442079102999\n", "text/plain")  # screened today
    api.call("POST", "/v1/campaigns", CAMPAIGN)
    rows = ["number,name,timezone,tier"]
    kinds, weights = zip(*CALLEE_MIX, strict=True)
    for n in range(contacts):
        kind = rng.choices(kinds, weights)[0]
        ring, talk = rng.randrange(2, 10), rng.randrange(80, 400)
        rows.append(f"+442079{kind}{ring:02d}{talk:03d},Customer {n + 1},{zone},{rng.choice('ab')}")
    status, report = api.send(
        "POST",
        "/v1/campaigns/winter-survey/lists?list_id=demo&name=Demo%20list",
        "\n".join(rows) + "\n",
        "text/csv",
    )
    api.call("POST", "/v1/campaigns/winter-survey/start")
    imported = report.get("imported") if isinstance(report, dict) else None
    return f"campaign winter-survey started with {imported} contacts ({status}) in {zone}"


def place_calls(every_s: float, rng: random.Random) -> None:
    from ccgateway.sandbox import Sandbox

    sandbox = Sandbox()
    while True:
        queue = rng.choice(QUEUES)
        caller = f"+4930{rng.randrange(1_000_000, 9_999_999)}"
        hangup_after = rng.randrange(8, 40)
        key = "1" if rng.random() < 0.15 else None  # some want to be called back
        sandbox.call(
            str(queue["extension"]),
            count=1,
            hangup_after=hangup_after + (30 if key else 0),
            caller=caller,
            wait=False,
            key=key,
        )
        wants = ", pressing 1 for a callback" if key else ""
        print(f"demo: {caller} calls {queue['id']} for {hangup_after} s{wants}", flush=True)
        time.sleep(rng.expovariate(1.0 / every_s))


def main(args: argparse.Namespace) -> int:
    api = Api(args.url, Path(args.key_file).read_text().strip())
    api.wait_until_up()
    seed(api, args.agents)
    print(f"demo: {args.agents} agents and {len(QUEUES)} queues ready", flush=True)
    create_users(api, args.agents, Path(args.passwords_file))
    print(
        f"demo: sign in at {args.url}/ui/ (user names and passwords in {args.passwords_file})",
        flush=True,
    )
    rng = random.Random(args.seed)
    print(f"demo: {start_campaign(api, rng)}", flush=True)
    try:
        place_calls(args.every, rng)
    except KeyboardInterrupt:
        print("demo: stopped", flush=True)
    return 0


def add_demo_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser("demo", help="seed a demo centre and place calls into the sandbox")
    demo.add_argument("--url", default="http://127.0.0.1:8080")
    demo.add_argument("--key-file", default="/var/lib/ccgateway/admin-key")
    demo.add_argument("--agents", type=int, default=6)
    demo.add_argument(
        "--passwords-file",
        default="/var/lib/ccgateway/demo-passwords",
        help="where the demo users' passwords are kept (made 0600)",
    )
    demo.add_argument("--every", type=float, default=20.0, help="mean seconds between calls")
    demo.add_argument("--seed", type=int, default=None)
    demo.set_defaults(handler=main)
