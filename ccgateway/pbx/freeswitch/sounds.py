"""What the project's sound names mean on FreeSWITCH. Pure: no I/O.

A queue's sounds (a message, a comfort sound) are written as Asterisk writes them: names of
its core sound set without extension, several joined by `&` (`im-sorry&please-try-call-
later`, domain/queue_policy.py). FreeSWITCH's playback knows none of them: its sound set
(en/us/callie, indexed in FreeSWITCH's docs/phrase/phrase_en.xml) has other names, files
are named with their extension, and a list is `file_string://a!b`. Each part is translated:

- a name in `SOUNDS` (or in the deployment's own table) becomes its FreeSWITCH file;
- a part that names its file with an extension (`ivr/ivr-thank_you.wav`, `acme/closed.wav`)
  is already a FreeSWITCH path and is kept;
- anything else has no FreeSWITCH meaning: `UnknownSound`, never a path FreeSWITCH would
  fail to open in silence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ccgateway.ports import InvalidWireValue

# Asterisk core sound -> the en/us/callie file with the same (or the nearest) meaning.
SOUNDS: Mapping[str, str] = {
    "im-sorry": "ivr/ivr-im_sorry.wav",
    "please-try-call-later": "ivr/ivr-please_try_again.wav",
    "please-try-again": "ivr/ivr-please_try_again.wav",
    "all-circuits-busy-now": "ivr/ivr-call_cannot_be_completed_as_dialed.wav",
    "queue-thankyou": "ivr/ivr-thank_you_for_holding.wav",
    "thank-you-for-calling": "ivr/ivr-thank_you_for_calling.wav",
    "auth-thankyou": "ivr/ivr-thank_you.wav",
    "one-moment-please": "ivr/ivr-one_moment_please.wav",
    "pls-hold-while-try": "ivr/ivr-hold_connect_call.wav",
    "queue-callswaiting": "ivr/ivr-call_answered_order_received.wav",
    "vm-nobodyavail": "voicemail/vm-not_available.wav",
    "goodbye": "voicemail/vm-goodbye.wav",
    "vm-goodbye": "voicemail/vm-goodbye.wav",
    # a recording notice (RecordingPolicy.notice): "This conference is being recorded."
    "conf-now-recording": "conference/conf-being_recorded.wav",
}
FILE_PATH = re.compile(r"^[A-Za-z0-9_/-][A-Za-z0-9_/.-]{0,150}\.(wav|mp3|ogg|flac|gsm|ulaw|alaw)$")


class UnknownSound(InvalidWireValue):
    """A sound with no FreeSWITCH meaning: neither a known name nor a file path."""


def playback_path(sound: str, extra: Mapping[str, str] | None = None) -> str:
    """The FreeSWITCH playback argument for a sound (one name, or `&`-joined names)."""
    table = {**SOUNDS, **(extra or {})}
    parts = [_file(part, table) for part in sound.split("&")]
    return parts[0] if len(parts) == 1 else "file_string://" + "!".join(parts)


def _file(part: str, table: Mapping[str, str]) -> str:
    path = table.get(part, part)
    if ".." in path or not FILE_PATH.fullmatch(path):
        known = ", ".join(sorted(table))
        raise UnknownSound(
            f"sound {part!r} has no FreeSWITCH meaning: use one of {known}, or a file of the "
            "FreeSWITCH sound set with its extension (e.g. ivr/ivr-thank_you.wav)"
        )
    return path
