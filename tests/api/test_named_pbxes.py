"""Agents and queues on a PBX of the `[pbxes.NAME]` table: accepted on a PBX the controller
drives, refused with 422 naming the PBXs it drives otherwise (issue 14, several PBXs)."""

from __future__ import annotations

import httpx

from ccgateway.app import Controller, build_controller
from ccgateway.persistence.stores import SqlConfigStore
from ccgateway.testing.clock import ManualClock
from ccgateway.testing.harness import (
    ADMIN_KEY,
    Harness,
    counting_ids,
    hermetic_settings,
    quick_passwords,
)
from ccgateway.testing.pbx import FakePbx


def two_pbxes(main: FakePbx) -> tuple[Controller, Harness, httpx.AsyncClient]:
    """A controller driving `main` (as `asterisk`) and `east`, and an admin's client."""
    clock = ManualClock()
    controller = build_controller(
        hermetic_settings(),
        [main, FakePbx("east")],
        clock=clock,
        new_id=counting_ids(),
        passwords=quick_passwords(),
    )
    api = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=controller.api),
        base_url="http://ccgw",
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    )
    return controller, Harness(controller, main, clock), api


async def test_agents_and_queues_may_name_only_a_pbx_the_controller_drives() -> None:
    _, harness, api = two_pbxes(FakePbx())
    async with harness.running(), api:
        agent = {"id": "e1", "name": "E1", "device": "PJSIP/agent1", "pbx": "east"}
        queue = {"id": "eq", "name": "East", "extension": "200", "pbx": "east"}
        for path, body in (("/v1/agents", agent), ("/v1/queues", queue)):
            created = await api.post(path, json=body)
            assert (created.status_code, created.json()["pbx"]) == (201, "east")
        # The same extension on the main Asterisk is another PBX's: no clash.
        same = await api.post("/v1/queues", json={**queue, "id": "q1", "pbx": "asterisk"})
        assert same.status_code == 201, same.text
        expected = "pbx 'west' is not one this controller drives (asterisk, east)"
        for method, path, body in (
            ("POST", "/v1/agents", {**agent, "id": "w1", "pbx": "west"}),
            ("PATCH", "/v1/agents/e1", {"pbx": "west"}),
            ("POST", "/v1/queues", {**queue, "id": "wq", "pbx": "west"}),
            ("PATCH", "/v1/queues/eq", {"pbx": "west"}),
        ):
            refused = await api.request(method, path, json=body)
            assert refused.status_code == 422, (path, refused.text)
            assert refused.json()["error_id"] == "invalid-value"
            assert expected in refused.json()["message"], refused.json()
        kept = (await api.get("/v1/agents/e1")).json()
        assert kept["pbx"] == "east"
        # The main Asterisk's own PJSIP/agent1 is another phone: another agent may have it,
        # but not a second agent on the same PBX.
        main_one = {**agent, "id": "m1", "pbx": "asterisk"}
        assert (await api.post("/v1/agents", json=main_one)).status_code == 201
        twice = await api.post("/v1/agents", json={**agent, "id": "e2"})
        assert twice.status_code == 409, twice.text
        assert "on east already belongs to agent e1" in twice.json()["message"]


async def test_a_queue_may_share_its_callers_only_with_a_pbx_its_own_has_a_trunk_to() -> None:
    """`trunked_pbxes` names driven PBXs the queue's PBX reaches over a trunk (its `trunks`
    setting); anything else is refused with 422 naming what is missing, and nothing is
    saved. The field reads back as it was stored, through the database."""
    controller, harness, api = two_pbxes(FakePbx(trunks=frozenset({"east"})))
    async with harness.running():
        async with api:
            queue = {"id": "q1", "name": "Q", "extension": "200", "trunked_pbxes": ["east"]}
            created = await api.post("/v1/queues", json=queue)
            assert (created.status_code, created.json()["trunked_pbxes"]) == (201, ["east"])
            for body, expected in (
                ({**queue, "id": "q2", "trunked_pbxes": ["west"]}, "pbx 'west' is not one"),
                (
                    {**queue, "id": "q3", "pbx": "east", "trunked_pbxes": ["asterisk"]},
                    "east has no trunk to asterisk",
                ),
                ({**queue, "id": "q4", "trunked_pbxes": ["asterisk"]}, "other PBXs than"),
            ):
                refused = await api.post("/v1/queues", json=body)
                assert refused.status_code == 422, refused.text
                assert expected in refused.json()["message"], refused.json()
                assert (await api.get(f"/v1/queues/{body['id']}")).status_code == 404
            cleared = await api.patch("/v1/queues/q1", json={"trunked_pbxes": []})
            assert cleared.json()["trunked_pbxes"] == []
            await api.patch("/v1/queues/q1", json={"trunked_pbxes": ["east"]})
        stored = {q.id: q for q in SqlConfigStore(controller.engine).load()[2]}
        assert stored["q1"].trunked_pbxes == ("east",)
