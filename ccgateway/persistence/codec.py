"""Domain values as the JSON text the stores keep: a queue's settings beyond its columns,
an agent's attributes and capacity, a task's data.

Read and written whole, never queried; the domain's constructors validate them on load, so a
row edited by hand cannot smuggle in a value the API would refuse.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from ccgateway.domain.calendar import Hours
from ccgateway.domain.model import Queue, RelaxationStep
from ccgateway.domain.queue_policy import Announcements, CallbackPolicy, Limits, QueueAction
from ccgateway.domain.recording import RecordingPolicy


def queue_settings_to_json(queue: Queue) -> str:
    steps = [
        {
            "after_s": s.after_s,
            "requirement": s.requirement,
            "priority_boost": s.priority_boost,
            "overflow_to": s.overflow_to,
        }
        for s in queue.relaxation
    ]
    limits = queue.limits
    settings = {
        "requirement": queue.requirement,
        "strategy": queue.strategy.value,
        "weight": queue.weight,
        "priority": queue.priority,
        "relaxation": steps,
        "last_agent_wait_s": queue.last_agent_wait_s,
        "last_agent_within_s": queue.last_agent_within_s,
        "limits": {
            "max_wait_s": limits.max_wait_s,
            "on_max_wait": _action(limits.on_max_wait),
            "max_waiting": limits.max_waiting,
            "on_full": _action(limits.on_full),
            "on_no_agents": _action(limits.on_no_agents),
            "on_closed": _action(limits.on_closed),
        },
        "hours": None
        if queue.hours is None
        else {
            "timezone": queue.hours.timezone,
            "weekly": {day: list(i) for day, i in queue.hours.weekly.items()},
            "holidays": list(queue.hours.holidays),
        },
        "announce": dataclasses.asdict(queue.announce),
        "callback": dataclasses.asdict(queue.callback),
        "recording": {
            "mode": queue.recording.mode.value,
            "share": queue.recording.share,
            "notice": queue.recording.notice,
            "refuse_key": queue.recording.refuse_key,
            "stereo": queue.recording.stereo,
        },
        "trunked_pbxes": list(queue.trunked_pbxes),
    }
    return json.dumps(settings, sort_keys=True)


def queue_settings_from_json(text: str | None) -> dict[str, Any]:
    """The queue's settings as Queue's keyword arguments (all absent: the defaults)."""
    settings: dict[str, Any] = json.loads(text or "{}")
    settings["relaxation"] = tuple(RelaxationStep(**s) for s in settings.get("relaxation", ()))
    if "limits" in settings:
        raw = settings["limits"]
        settings["limits"] = Limits(
            max_wait_s=raw.get("max_wait_s"),
            on_max_wait=_from_action(raw.get("on_max_wait")) or Limits().on_max_wait,
            max_waiting=raw.get("max_waiting"),
            on_full=_from_action(raw.get("on_full")) or Limits().on_full,
            on_no_agents=_from_action(raw.get("on_no_agents")),
            on_closed=_from_action(raw.get("on_closed")) or Limits().on_closed,
        )
    hours = settings.pop("hours", None)
    if hours is not None:
        weekly = {day: tuple(i) for day, i in hours["weekly"].items()}
        settings["hours"] = Hours(hours["timezone"], weekly, tuple(hours.get("holidays", ())))
    if "announce" in settings:
        settings["announce"] = Announcements(**settings["announce"])
    if "callback" in settings:
        settings["callback"] = CallbackPolicy(**settings["callback"])
    if "recording" in settings:
        settings["recording"] = RecordingPolicy(**settings["recording"])
    return settings


def _action(action: QueueAction | None) -> dict[str, str | None] | None:
    return None if action is None else {"kind": action.kind.value, "target": action.target}


def _from_action(raw: dict[str, Any] | None) -> QueueAction | None:
    return None if raw is None else QueueAction(raw["kind"], raw.get("target"))
