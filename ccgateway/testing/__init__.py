"""Test doubles for testing against ccgateway without a PBX, shipped with the package.

An integrator's tests (and ours) run the real controller: stores, centre, dispatcher,
services and API, with two of our own ports replaced by doubles: `FakePbx` (the test plays
the PBX: it emits events and reads the commands) and `ManualClock` (time moves only when
the test moves it, so an hour of waiting costs nothing). `build_harness` wires them through
the same composition root as production (`ccgateway.app.build_controller`), so a test
never copies that wiring. Nothing here needs pytest.

    async with build_harness().running() as h:
        ...  # skills, a queue on extension 200, an available agent: h.controller.api
        await h.emit(PbxResynced(), CallWaiting("c1", "200"))  # the test plays the PBX
        [ring] = await h.pbx.wait_for(RingAgent)  # what the centre asked the PBX to do
        await h.advance(30)  # half a minute passes at once

The doubles stand for our own ports only: an end-to-end test runs on a real PBX.
"""

from ccgateway.testing.clock import ManualClock
from ccgateway.testing.harness import (
    ADMIN_KEY,
    Harness,
    build_harness,
    counting_ids,
    hermetic_settings,
    quick_passwords,
)
from ccgateway.testing.pbx import FakePbx

__all__ = [
    "ADMIN_KEY",
    "FakePbx",
    "Harness",
    "ManualClock",
    "build_harness",
    "counting_ids",
    "hermetic_settings",
    "quick_passwords",
]
