"""The project's sound names on FreeSWITCH: the mapping, and what FreeSwitchPbx sends."""

from __future__ import annotations

import asyncio
import re

import pytest

from ccgateway.domain.commands import Announce, PlayMessage
from ccgateway.domain.queue_policy import CALLBACK_CONFIRMATION, DEFAULT_CLOSED_SOUND
from ccgateway.pbx.freeswitch import sounds
from ccgateway.pbx.freeswitch.adapter import FreeSwitchPbx

CALLIE = re.compile(r"^(ivr|voicemail|misc|conference)/[a-z_-]+\.wav$")


@pytest.mark.parametrize(
    ("sound", "path"),
    [
        (
            DEFAULT_CLOSED_SOUND,  # im-sorry&please-try-call-later
            "file_string://ivr/ivr-im_sorry.wav!ivr/ivr-please_try_again.wav",
        ),
        (
            CALLBACK_CONFIRMATION,
            "file_string://ivr/ivr-thank_you_for_holding.wav!voicemail/vm-goodbye.wav",
        ),
        ("goodbye", "voicemail/vm-goodbye.wav"),
        ("ivr/ivr-thank_you.wav", "ivr/ivr-thank_you.wav"),  # a FreeSWITCH path is kept
        ("acme/closed.wav&vm-goodbye", "file_string://acme/closed.wav!voicemail/vm-goodbye.wav"),
    ],
)
def test_sounds_become_freeswitch_playback_paths(sound: str, path: str) -> None:
    assert sounds.playback_path(sound) == path


def test_every_known_name_is_a_file_of_the_sound_set() -> None:
    for name, path in sounds.SOUNDS.items():
        assert CALLIE.fullmatch(path), name


@pytest.mark.parametrize(
    "sound", ["please-hold", "im-sorry&custom/closed", "../../etc/passwd.wav", "a b.wav"]
)
def test_a_sound_with_no_freeswitch_meaning_is_refused(sound: str) -> None:
    with pytest.raises(sounds.UnknownSound, match="no FreeSWITCH meaning"):
        sounds.playback_path(sound)


def test_a_deployment_names_its_own_sounds() -> None:
    extra = {"closed": "acme/closed.wav"}
    assert sounds.playback_path("closed&goodbye", extra) == (
        "file_string://acme/closed.wav!voicemail/vm-goodbye.wav"
    )
    assert sounds.playback_path("closed", extra) == "acme/closed.wav"
    with pytest.raises(sounds.UnknownSound):
        sounds.playback_path("closed")
    with pytest.raises(sounds.UnknownSound):
        FreeSwitchPbx(
            password="unused", sound_names={"closed": "acme/closed"}
        )  # no extension: refused at start


class SentWords:
    """Stands in for our own EslClient: records api words, answers +OK."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, ...]] = []

    async def api(self, *words: str) -> str:
        self.sent.append(words)
        return "+OK\n"


def sent_by(command: PlayMessage | Announce) -> list[tuple[str, ...]]:
    pbx = FreeSwitchPbx(password="unused")
    client = SentWords()
    pbx.client = client  # type: ignore[assignment]
    asyncio.run(pbx.execute(command))
    return client.sent


def test_the_closed_message_plays_freeswitch_files() -> None:
    assert sent_by(PlayMessage("c1", DEFAULT_CLOSED_SOUND, "freeswitch")) == [
        (
            "uuid_setvar",
            "c1",
            "ccgw_sound",
            "file_string://ivr/ivr-im_sorry.wav!ivr/ivr-please_try_again.wav",
        ),
        ("uuid_transfer", "c1", "s", "XML", "ccgw-message"),
    ]


def test_a_message_freeswitch_cannot_play_sends_the_caller_to_the_fallback() -> None:
    assert sent_by(PlayMessage("c1", "custom-closed", "freeswitch")) == [
        ("uuid_transfer", "c1", "s", "XML", "ccgw-fallback"),
    ]


def test_a_comfort_sound_is_announced_as_a_freeswitch_path() -> None:
    sent = sent_by(Announce("c1", "5000", None, None, comfort="queue-thankyou"))
    assert sent[0] == (
        "uuid_setvar_multi",
        "c1",
        "ccgw_position=;ccgw_ewt_min=;ccgw_comfort=ivr/ivr-thank_you_for_holding.wav;"
        "ccgw_offer_callback=",
    )
    # a comfort sound with no FreeSWITCH meaning is left out; the rest is still announced
    unknown = sent_by(Announce("c1", "5000", 2, None, comfort="custom-hold"))
    assert "ccgw_position=2;ccgw_ewt_min=;ccgw_comfort=;" in unknown[0][2]
    assert unknown[1:] == sent[1:]
