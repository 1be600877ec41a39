"""Issue 15's fixes as a real FreeSWITCH 1.10.12 put them on the wire.

Recorded on 2026-12-04 from a FreeSWITCH built by hand (ccgateway/pbx/freeswitch/README.md) with
dialplans/freeswitch loaded as shipped, sipp as the phones and a loopback Event Socket
listener; `recorded/*.esl` hold the server's event frames byte for byte:

- feature_codes.esl: `*71`, `*7205`, `*73`, `*742`, `*75` dialled from user 1001 through
  ccgw-features (each answered: 200 OK, the tone, then FreeSWITCH's BYE);
- feature_code_without_custom.esl: `*71` through the old dialplan (no Event-Name=CUSTOM):
  the same data arrives as CHANNEL_APPLICATION, and the call was refused with 480;
- hold_music_park_timeout.esl: a caller parked in ccgw-inbound with the timeouts shortened
  to 15 s, `uuid_broadcast <uuid> local_stream://moh aleg` sent as the adapter sends it,
  then no controller: the music stops at 15 s and park hangs up with ALLOTTED_TIMEOUT (with
  the old dialplan the same caller was still parked after 49 s).
- blind_register.esl (2026-12-06, the FreeSWITCH sandbox): user 1002's phone registering
  again without a challenge (accept-blind-reg): `username: unknown`, `from-user: 1002`.
- shutdown_cut_off.esl (2026-12-06, the FreeSWITCH sandbox, issue 14): a caller parked in
  ccgw-inbound, then `fsctl shutdown`: CHANNEL_PARK and the CHANNEL_HANGUP that follows.
"""

from __future__ import annotations

from pathlib import Path

from ccgateway.domain.events import (
    CallWaiting,
    ChannelHungUp,
    DeviceState,
    DeviceStateChanged,
    Feature,
    FeatureCodeDialled,
)
from ccgateway.pbx.freeswitch import esl, translate
from ccgateway.pbx.freeswitch.client import EventHeaders

RECORDED = Path(__file__).parent / "recorded"


def recorded_events(name: str) -> list[EventHeaders]:
    frames = esl.EslParser().feed((RECORDED / name).read_bytes())
    return [e for f in frames if (e := esl.parse_event(f)) is not None]


def test_recorded_feature_codes_reach_the_controller() -> None:
    got = [translate.to_event(e) for e in recorded_events("feature_codes.esl")]
    assert got == [
        FeatureCodeDialled("user/1001", Feature.AVAILABLE, None),
        FeatureCodeDialled("user/1001", Feature.PAUSE, 5),
        FeatureCodeDialled("user/1001", Feature.LOGOUT, None),
        FeatureCodeDialled("user/1001", Feature.PAUSE_AFTER_CALL, 2),
        FeatureCodeDialled("user/1001", Feature.LOGOUT_AFTER_CALL, None),
    ]


def test_the_recorded_custom_event_is_one_the_controller_subscribes_to() -> None:
    for event in recorded_events("feature_codes.esl"):
        assert (event["Event-Name"], event["Event-Subclass"]) == ("CUSTOM", "ccgw::feature")
        assert event["Event-Subclass"] in translate.CUSTOM


def test_without_event_name_custom_the_event_is_channel_application() -> None:
    [event] = recorded_events("feature_code_without_custom.esl")
    assert event["Event-Name"] == "CHANNEL_APPLICATION"
    assert event["ccgw_feature"] == "available"
    assert translate.to_event(event) is None
    assert "CHANNEL_APPLICATION" not in translate.SUBSCRIBED


def test_hold_music_ends_with_the_park_timeout() -> None:
    events = recorded_events("hold_music_park_timeout.esl")
    [park] = [e for e in events if e["Event-Name"] == "CHANNEL_PARK"]
    [music] = [e for e in events if e.get("Application-Data") == "local_stream://moh"]
    [hangup] = [e for e in events if e["Event-Name"] == "CHANNEL_HANGUP"]
    assert park["variable_playback_timeout_sec"] == "15"

    def seconds(event: EventHeaders) -> float:
        return (int(event["Event-Date-Timestamp"]) - int(park["Event-Date-Timestamp"])) / 1e6

    assert 14.5 < seconds(music) <= seconds(hangup) < 16.0
    assert translate.to_event(hangup) == ChannelHungUp(
        park["Unique-ID"], translate.CAUSES["ALLOTTED_TIMEOUT"], "ALLOTTED_TIMEOUT"
    )


def test_a_registration_without_a_challenge_names_the_registered_user() -> None:
    [event] = recorded_events("blind_register.esl")
    assert (event["username"], event["from-user"]) == ("unknown", "1002")
    assert translate.to_event(event) == DeviceStateChanged("user/1002", DeviceState.AVAILABLE)


def test_a_caller_hung_up_by_freeswitchs_shutdown_is_cut_off_by_the_pbx() -> None:
    """shutdown_cut_off.esl: a sipp caller parked in ccgw-inbound, then `fsctl shutdown` on
    the real FreeSWITCH 1.10.12: its CHANNEL_HANGUP (cause SYSTEM_SHUTDOWN) comes before the
    socket closes. The centre records such a caller as cut_off, not as abandoned."""
    events = recorded_events("shutdown_cut_off.esl")
    [waiting] = [e for e in map(translate.to_event, events) if isinstance(e, CallWaiting)]
    [ended] = [e for e in map(translate.to_event, events) if isinstance(e, ChannelHungUp)]
    assert ended.channel_id == waiting.call_id and ended.pbx_down
    assert ended.cause_text == "SYSTEM_SHUTDOWN"
    normal = {**events[-1], "Hangup-Cause": "NORMAL_CLEARING"}
    hung_up = translate.to_event(normal)
    assert isinstance(hung_up, ChannelHungUp) and not hung_up.pbx_down
