"""Demo traffic for `make run`: seeds a small centre through the REST API, then places a
trickle of customer calls into the sandbox PBX so the API has something to show."""

from __future__ import annotations

import argparse
import json
import random
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

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
    try:
        place_calls(args.every, random.Random(args.seed))
    except KeyboardInterrupt:
        print("demo: stopped", flush=True)
    return 0


def add_demo_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser("demo", help="seed a demo centre and place calls into the sandbox")
    demo.add_argument("--url", default="http://127.0.0.1:8080")
    demo.add_argument("--key-file", default="/var/lib/ccgateway/admin-key")
    demo.add_argument("--agents", type=int, default=6)
    demo.add_argument("--every", type=float, default=20.0, help="mean seconds between calls")
    demo.add_argument("--seed", type=int, default=None)
    demo.set_defaults(handler=main)
