"""The load benchmark's pure part: from a raw AMI event log to latencies and accounting.

No I/O: `benchmarks/asterisk_load.py` records every event Asterisk sent on one raw AMI
connection (with `timestampevents`, each carries the moment Asterisk made it, `Timestamp`,
in seconds with microseconds) and hands the list here. tests/benchmarks checks it on
small hand-written logs.

Definitions (one phase of the log: one system, ccgateway or app_queue, under one load)
- A caller is a channel whose name starts with `PJSIP/trunk` (both trunks); an agent leg
  one whose name starts with `PJSIP/agent`; the agent is the device (the name up to its
  last `-`).
- Ready: the moment the router may act. ccgateway: the caller's `CCGWWaiting` UserEvent
  (the dialplan sends it just before the caller waits); app_queue: its `QueueCallerJoin`.
- Leg created: the agent leg's `Newchannel`. Bridged: the first moment the caller and an
  agent leg are in one bridge together (`BridgeEnter`; the holding bridge never has an
  agent leg). The leg timed is the one bridged with the caller.
- Doubled: a caller bridged with two agent legs or more, or with two agent legs alive at
  once among the legs rung for it (ccgateway's legs name their caller in `CCGW_CALLER`,
  app_queue's in `AgentCalled`).
- Lost: a caller that hung up never bridged while some agent's device had no channel.
- Stuck: an agent leg still up at the end of the log.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

Event = Mapping[str, str]
CALLER, AGENT = "PJSIP/trunk", "PJSIP/agent"


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between the closest ranks (numpy's default)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def device(channel: str) -> str:
    """`PJSIP/agent7-0000002a` -> `PJSIP/agent7`."""
    return channel.rsplit("-", 1)[0]


def stamp(event: Event) -> float:
    """When Asterisk made the event (its `Timestamp`), or when it reached us (`_received`)."""
    return float(event.get("Timestamp") or event["_received"])


@dataclass
class Phase:
    """What one phase's log says: per caller, when it was ready, rung and bridged."""

    ready: dict[str, float] = field(default_factory=dict)  # caller uniqueid -> t
    callers: dict[str, float] = field(default_factory=dict)  # caller uniqueid -> Newchannel t
    caller_ended: dict[str, float] = field(default_factory=dict)
    legs: dict[str, tuple[str, float]] = field(default_factory=dict)  # leg -> (device, t)
    leg_ended: dict[str, float] = field(default_factory=dict)
    rung_for: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    bridged: dict[str, list[tuple[str, float]]] = field(default_factory=lambda: defaultdict(list))
    devices: set[str] = field(default_factory=set)

    def created_ms(self) -> list[float]:
        """Ready -> the bridged leg's Newchannel, ms, per bridged caller that was ready."""
        return [
            (self.legs[legs[0][0]][1] - self.ready[caller]) * 1000
            for caller, legs in self.bridged.items()
            if caller in self.ready and legs[0][0] in self.legs
        ]

    def bridged_ms(self) -> list[float]:
        """Ready -> caller and agent leg in one bridge, ms, per bridged caller."""
        return [
            (legs[0][1] - self.ready[caller]) * 1000
            for caller, legs in self.bridged.items()
            if caller in self.ready
        ]

    def doubled(self) -> list[str]:
        """Callers bridged twice or with two of their legs alive at once."""
        out = []
        for caller in self.callers:
            if len({leg for leg, _ in self.bridged.get(caller, [])}) > 1:
                out.append(caller)
                continue
            spans = sorted(
                (self.legs[leg][1], self.leg_ended.get(leg, float("inf")))
                for leg in self.rung_for.get(caller, ())
                if leg in self.legs
            )
            if any(later[0] < earlier[1] for earlier, later in itertools.pairwise(spans)):
                out.append(caller)
        return out

    def lost(self) -> list[str]:
        """Callers who hung up never bridged while some agent's device had no channel."""
        out = []
        for caller, ended in self.caller_ended.items():
            if caller in self.bridged:
                continue
            busy = {
                dev
                for leg, (dev, start) in self.legs.items()
                if start <= ended < self.leg_ended.get(leg, float("inf"))
            }
            if self.devices - busy:
                out.append(caller)
        return out

    def stuck(self) -> list[str]:
        """Agent legs still up at the end of the log."""
        return sorted(leg for leg in self.legs if leg not in self.leg_ended)


def read_phase(events: Iterable[Event], devices: Iterable[str]) -> Phase:
    """Fold one phase's events (in the order Asterisk sent them); `devices`: the agents'
    devices taking part (`PJSIP/agentK`), for the lost callers' "an agent was free"."""
    phase = Phase(devices=set(devices))
    members: dict[str, dict[str, str]] = defaultdict(dict)  # bridge -> uniqueid -> channel
    for e in events:
        name, uid, channel = e.get("Event", ""), e.get("Uniqueid", ""), e.get("Channel", "")
        if name == "Newchannel":
            if channel.startswith(CALLER):
                phase.callers[uid] = stamp(e)
            elif channel.startswith(AGENT):
                phase.legs[uid] = (device(channel), stamp(e))
        elif name == "Hangup":
            if uid in phase.callers:
                phase.caller_ended[uid] = stamp(e)
            elif uid in phase.legs:
                phase.leg_ended[uid] = stamp(e)
        elif name == "QueueCallerJoin" or (
            name == "UserEvent" and e.get("UserEvent") == "CCGWWaiting"
        ):
            phase.ready.setdefault(uid, stamp(e))
        elif name == "VarSet" and e.get("Variable") == "CCGW_CALLER" and e.get("Value"):
            phase.rung_for[e["Value"]].add(uid)
        elif name == "AgentCalled" and e.get("DestUniqueid"):
            phase.rung_for[uid].add(e["DestUniqueid"])
        elif name == "BridgeEnter":
            inside = members[e.get("BridgeUniqueid", "")]
            inside[uid] = channel
            _pair(phase, inside, stamp(e))
        elif name == "BridgeLeave":
            members[e.get("BridgeUniqueid", "")].pop(uid, None)
    return phase


def _pair(phase: Phase, inside: Mapping[str, str], at: float) -> None:
    callers = [u for u, ch in inside.items() if ch.startswith(CALLER)]
    legs = [u for u, ch in inside.items() if ch.startswith(AGENT)]
    for caller in callers:
        known = {leg for leg, _ in phase.bridged.get(caller, [])}
        for leg in legs:
            if leg not in known:
                phase.bridged[caller].append((leg, at))


@dataclass(frozen=True)
class Accounting:
    """Calls counted three ways, and what must be zero."""

    placed: int  # by sipp
    seen: int  # callers' channels Asterisk created
    records: int | None  # distinct callers in the controller's records (None: app_queue)
    bridged: int
    lost: int
    doubled: int
    stuck: int

    @property
    def agrees(self) -> bool:
        counts_agree = self.placed == self.seen and self.records in (None, self.seen)
        return counts_agree and self.lost == self.doubled == self.stuck == 0


def account(phase: Phase, placed: int, records: int | None) -> Accounting:
    return Accounting(
        placed=placed,
        seen=len(phase.callers),
        records=records,
        bridged=len(phase.bridged),
        lost=len(phase.lost()),
        doubled=len(phase.doubled()),
        stuck=len(phase.stuck()),
    )


def breakdown(phase: Phase, trace: Iterable[str]) -> dict[str, list[float]]:
    """The ccgateway path cut in five, ms, per bridged caller, from the traced controller's
    lines (benchmarks/traced_serve.py): Asterisk made CCGWWaiting -> its bytes reached the
    controller (`read`) -> the dispatcher's turn for it began (`turn`) -> the centre's
    decision returned (`done`) -> the Originate was written (`sent`) -> Asterisk made the
    leg's Newchannel. Asterisk's stamps and the controller's share one clock: the
    machine's wall clock."""
    seen: dict[str, dict[str, float]] = defaultdict(dict)  # kind -> key -> first time
    for line in trace:
        kind, at, key = line.split()
        seen[kind].setdefault(key, float(at))
    read, turn, done, sent = (seen[k] for k in ("read", "turn", "done", "sent"))
    out: dict[str, list[float]] = {
        "to controller": [], "queued": [], "decision": [], "to write": [], "to leg": []
    }  # fmt: skip
    for caller, legs in phase.bridged.items():
        leg = legs[0][0]
        if caller not in phase.ready or leg not in phase.legs or leg not in sent:
            continue
        if not all(caller in kind for kind in (read, turn, done)):
            continue
        out["to controller"].append((read[caller] - phase.ready[caller]) * 1000)
        out["queued"].append((turn[caller] - read[caller]) * 1000)
        out["decision"].append((done[caller] - turn[caller]) * 1000)
        out["to write"].append((sent[leg] - done[caller]) * 1000)
        out["to leg"].append((phase.legs[leg][1] - sent[leg]) * 1000)
    return out
