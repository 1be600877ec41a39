"""The composition root's own choices."""

from ccgateway.app import new_leg_id
from ccgateway.pbx.asterisk.translate import LEG_PREFIX as ASTERISK_LEGS
from ccgateway.pbx.freeswitch.translate import LEG_PREFIX as FREESWITCH_LEGS


def test_leg_ids_are_unique_recognisable_and_fit_freeswitch_uuids() -> None:
    ids = {new_leg_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(len(i) <= 36 for i in ids)  # FreeSWITCH's uuid_str holds 36 characters
    assert all(i.startswith(ASTERISK_LEGS) and i.startswith(FREESWITCH_LEGS) for i in ids)
