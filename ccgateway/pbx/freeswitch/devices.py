"""Which agent phones are free, from FreeSWITCH's registrations and channels. Pure: no I/O.

FreeSWITCH has no device state of its own to subscribe to (Asterisk's DeviceStateChange), so
the adapter derives one per directory user, as Asterisk would report `PJSIP/<endpoint>`:

- not registered: unavailable (sofia::register / unregister / expire);
- registered, with a channel of its own: in use, whoever placed the call (the phone dialled
  another extension or an outside number, it received a direct call, or the controller
  rang it);
- registered and idle: available.

A channel belongs to the user FreeSWITCH names on it (seen on a real 1.10.12): a call to
`user/1001` carries `Channel-Presence-ID: 1001@<domain>` on every event; a call the phone
places carries `variable_user_name` when FreeSWITCH authenticated it, and always
`Caller-Username` (the SIP From user). Only users known to be phones (in the directory, or
registered) are reported, so a customer's number never becomes a device. A channel is
counted once by its uuid: the controller's own agent leg is one channel of its phone (its
CHANNEL_CREATE and a resync listing it again do not add up), and its hang-up frees the phone
whatever else was said.

An inbound channel without `variable_user_name` (a phone's call that FreeSWITCH did not
challenge: the sandbox's `auth-calls` false) names its user only in its From, which anyone
can write. It counts as the phone's only when it comes from the address and port that user
registered from (`network-ip`/`network-port` of the registration, `sip_network_ip`/
`sip_network_port` of the channel): a caller on a trunk who sends an agent's user name as
the From user does not make that phone look busy.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping

from ccgateway.domain.events import DeviceState, DeviceStateChanged

EventHeaders = Mapping[str, str]
Address = tuple[str, str]  # (ip, port) a phone registered from
REGISTRATION = {"sofia::register": True, "sofia::unregister": False, "sofia::expire": False}
# What the adapter subscribes to beyond the calls' own events: every channel's birth (its
# end is CHANNEL_HANGUP, already subscribed).
CHANNEL_EVENTS = ("CHANNEL_CREATE",)
MAX_USER = 80
UUID = re.compile(r"[A-Za-z0-9_.:@+-]{1,64}")  # one word of a uuid_dump command


def device(user: str) -> str:
    """The controller's device name of a directory user."""
    return f"user/{user}"


def channel_user(event: EventHeaders, addresses: Mapping[str, Address] | None = None) -> str | None:
    """The directory user a channel (an event's or `uuid_dump`'s headers) belongs to.
    `addresses`: where each user registered from (an unchallenged call's From user is
    believed only from there)."""
    user = event.get("variable_user_name", "")
    if not user:
        presence = event.get("Channel-Presence-ID") or event.get("variable_presence_id", "")
        user = presence.partition("@")[0]
    if not user and event.get("Call-Direction") == "inbound":
        claimed = event.get("Caller-Username", "")
        source = (
            event.get("variable_sip_network_ip", ""),
            event.get("variable_sip_network_port", ""),
        )
        if (addresses or {}).get(claimed) == source:
            user = claimed
    return user if _is_user(user) else None


def registration_address(event: EventHeaders) -> Address:
    """Where a sofia::register came from (`network-ip`, `network-port`)."""
    return event.get("network-ip", ""), event.get("network-port", "")


def registration(event: EventHeaders) -> tuple[str, bool] | None:
    """(user, registered) for a sofia::register / unregister / expire event."""
    registered = REGISTRATION.get(event.get("Event-Subclass", ""))
    # `username` is the authenticated user; a registration FreeSWITCH took without a
    # challenge (accept-blind-reg) says `username: unknown` and names the phone only in
    # `from-user` (seen on a real 1.10.12)
    user = event.get("username", "")
    if user in ("", "unknown"):
        user = event.get("from-user", "")
    if registered is None or not _is_user(user):
        return None
    return user, registered


def _is_user(user: str) -> bool:
    return 0 < len(user) <= MAX_USER and all(c.isalnum() or c in "_.+-" for c in user)


class DeviceBook:
    """Registrations and live channels per user; says when a user's state changes."""

    def __init__(self) -> None:
        self._known: set[str] = set()  # users that are phones: directory or registered
        self._registered: set[str] = set()
        self._addresses: dict[str, Address] = {}  # registered user -> where from
        self._owner: dict[str, str] = {}  # channel uuid -> its user
        self._reported: dict[str, DeviceState] = {}
        self._pending: list[EventHeaders] | None = None  # held while a resync is taken

    def begin_resync(self) -> None:
        """From now until `reset` (or `abandon_resync`), events are held, then applied on top
        of the snapshot: one that happens while the snapshot is read is never lost to it."""
        self._pending = []

    def abandon_resync(self) -> None:
        """The snapshot failed: apply what was held to the picture as it was."""
        pending, self._pending = self._pending or [], None
        for event in pending:
            self.on_event(event)

    def state(self, user: str) -> DeviceState:
        if user not in self._registered:
            return DeviceState.UNAVAILABLE
        if user in self._owner.values():
            return DeviceState.IN_USE
        return DeviceState.AVAILABLE

    def on_event(self, event: EventHeaders) -> DeviceStateChanged | None:
        """The device state this event changes, if any (None too while a resync is taken:
        `reset` reports it)."""
        if self._pending is not None:
            self._pending.append(event)
            return None
        name = event.get("Event-Name")
        if name == "CUSTOM":
            found = registration(event)
            if found is None:
                return None
            user, registered = found
            self._known.add(user)
            if registered:
                self._registered.add(user)
                self._addresses[user] = registration_address(event)
            else:
                self._registered.discard(user)
                self._addresses.pop(user, None)
            return self._changed(user)
        uuid = event.get("Unique-ID", "")
        if name == "CHANNEL_CREATE" and uuid:
            owner = channel_user(event, self._addresses)
            if owner is None or owner not in self._known:
                return None
            self._owner[uuid] = owner
            return self._changed(owner)
        if name in ("CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"):
            freed = self._owner.pop(uuid, None)
            return None if freed is None else self._changed(freed)
        return None

    def reset(
        self,
        directory: Iterable[str],
        registered: Mapping[str, Address],
        channels: Mapping[str, EventHeaders],
    ) -> tuple[DeviceStateChanged, ...]:
        """The whole picture after a (re)connect: every known phone's state, for the resync.

        `directory`: the switch's directory users; `registered`: those with a registration
        now, and where from; `channels`: every live channel's headers (`uuid_dump`) by
        uuid. A phone known before but absent now is reported unavailable, never left as it
        was. The events held since `begin_resync` are applied on top."""
        pending, self._pending = self._pending or [], None
        self._registered = set(registered)
        self._addresses = dict(registered)
        self._known |= set(directory) | self._registered
        self._owner = {}
        for uuid, headers in channels.items():
            user = channel_user(headers, self._addresses)
            if user is not None and user in self._known:
                self._owner[uuid] = user
        for event in pending:
            self.on_event(event)
        self._reported = {user: self.state(user) for user in sorted(self._known)}
        return tuple(DeviceStateChanged(device(u), s) for u, s in self._reported.items())

    def _changed(self, user: str) -> DeviceStateChanged | None:
        state = self.state(user)
        if self._reported.get(user) is state:
            return None
        self._reported[user] = state
        return DeviceStateChanged(device(user), state)


def profiles(xmlstatus: str) -> list[str]:
    """The SIP profiles in `sofia xmlstatus` (aliases and gateways left out)."""
    root = _xml(xmlstatus)
    names = []
    for entry in root.iter("profile") if root is not None else ():
        name = (entry.findtext("name") or "").strip()
        if (entry.findtext("type") or "").strip() == "profile" and _is_profile(name):
            names.append(name)
    return names


def registered_users(reg_xml: str) -> dict[str, Address]:
    """The users with a registration in `sofia xmlstatus profile <p> reg`, and where each
    registered from."""
    root = _xml(reg_xml)
    users = {}
    for entry in root.iter("registration") if root is not None else ():
        user = (entry.findtext("user") or "").strip().partition("@")[0]
        if _is_user(user):
            ip = (entry.findtext("network-ip") or "").strip()
            users[user] = (ip, (entry.findtext("network-port") or "").strip())
    return users


def directory_users(list_users: str) -> set[str]:
    """The users in `list_users` (a `|` table: userid|context|domain|group|contact|...)."""
    users = set()
    lines = list_users.strip().splitlines()
    for line in lines[1:] if lines and lines[0].startswith("userid|") else ():
        user, bar, _ = line.partition("|")
        if bar and _is_user(user):
            users.add(user)
    return users


def channel_uuids(channels_json: str) -> list[str]:
    """The uuids in `show channels as json`."""
    data = json.loads(channels_json or '{"row_count": 0}')
    rows = data.get("rows", []) if isinstance(data, dict) else []
    uuids = [str(row.get("uuid", "")) for row in rows if isinstance(row, dict)]
    return [uuid for uuid in uuids if UUID.fullmatch(uuid)]


def _is_profile(name: str) -> bool:
    return 0 < len(name) <= MAX_USER and all(c.isalnum() or c in "_.-" for c in name)


def _xml(text: str) -> ET.Element | None:
    """FreeSWITCH's own XML (no DTD, its values escaped); None for an error answer."""
    text = text.strip()
    if not text.startswith("<"):
        return None
    try:
        return ET.fromstring(text.encode())
    except ET.ParseError:
        return None
