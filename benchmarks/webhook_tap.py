"""What the webhooks cost the dispatcher's turn: `WebhookDeliverer.observe` per command.

What is measured
    The webhooks' tap runs in the dispatcher's turn for every command it carries out, so
    its cost is added to every routing step. A stream of commands as a busy centre makes
    them (an agent's state, a call ringing, answered, its record and its end: 5 commands,
    4 of them events) is handed to `observe` of the real controller's deliverer
    (`build_harness`), with 0, 1 and 10 subscriptions to every event type; each call is
    timed with `time.perf_counter_ns`. The intake is emptied between rounds (the job would
    save it, making the bodies and delivery records in the writer's thread), so memory
    stays flat. Nothing is saved or sent: this is the turn's share only.
    Baseline: `EventHub.publish` of the same notices, which the dispatcher already does for
    every `Notify` (the event stream): the tap should cost about as much.

    python -m benchmarks.webhook_tap [--commands 100000]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

from ccgateway.domain.commands import Command, Interaction, Notify, Outcome, RecordInteraction
from ccgateway.domain.webhooks import Subscription
from ccgateway.services.event_hub import EventHub
from ccgateway.testing import build_harness


def commands(n: int) -> list[Command]:
    out: list[Command] = []
    for k in range(n // 5):
        call, agent = f"c{k}", f"a{k % 200}"
        state = {"call_id": call, "queue_id": "q", "agent_id": agent, "caller_number": "+4930",
                 "caller_name": "", "arrived_at": 1.0, "kind": "inbound"}  # fmt: skip
        record = Interaction(call, "q", agent, "+4930", Outcome.ANSWERED, 1.0, 2.0, 3.0, 1.0,
                             1.0, 1)  # fmt: skip
        out += [
            Notify(
                "agent.state",
                {
                    "agent_id": agent,
                    "state": "on_call",
                    "reason": None,
                    "call_id": call,
                    "tasks": [],
                    "wrapup_until": None,
                },
            ),
            Notify("call.state", {**state, "state": "offering"}),
            Notify("call.state", {**state, "state": "connected"}),
            RecordInteraction(record),
            Notify("call.ended", {"call_id": call, "outcome": "answered", "agent_id": agent}),
        ]
    return out


def timed(step: Callable[[Command], None], stream: list[Command]) -> list[int]:
    took = []
    for command in stream:
        started = time.perf_counter_ns()
        step(command)
        took.append(time.perf_counter_ns() - started)
    return took


def summary(name: str, took: list[int]) -> str:
    ordered = sorted(took)
    p99 = ordered[int(len(ordered) * 0.99)]
    mean = statistics.fmean(took)
    median = ordered[len(ordered) // 2]
    return f"{name:<34} {mean / 1000:>9.2f} {median / 1000:>9.2f} {p99 / 1000:>9.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=100_000)
    args = parser.parse_args()
    stream = commands(args.commands)
    print("The webhooks' tap in the dispatcher's turn, per command (microseconds)")
    print(f"date       {time.strftime('%Y-%m-%d')}")
    print(f"machine    {platform.platform()}, {os.cpu_count()} CPU(s), load average "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    print(f"commands   {len(stream):,} (5 per call: agent state, offered, answered, record, end)")
    print(f"{'':<34} {'mean':>9} {'median':>9} {'p99':>9}")
    hub = EventHub()

    def publish(command: Command) -> None:
        if isinstance(command, Notify):
            hub.publish(1.0, command.topic, command.data)

    print(summary("baseline: EventHub.publish", timed(publish, stream)))
    harness = build_harness()
    deliverer = harness.controller.webhooks
    assert deliverer is not None
    for count in (0, 1, 10):
        for n in range(count):
            deliverer.subscribed(Subscription(f"wh_{n}", "https://x.example/", ("*",), "s" * 16))
        took: list[int] = []
        for start in range(0, len(stream), 1_000):
            took += timed(lambda c: deliverer.observe(c, 1.0), stream[start : start + 1_000])
            deliverer._take_unsaved()  # what the job's round would have saved
        print(summary(f"observe, {count} subscription(s)", took))
        for n in range(count):
            deliverer.unsubscribed(f"wh_{n}")
    harness.controller.engine.dispose()


if __name__ == "__main__":
    main()
