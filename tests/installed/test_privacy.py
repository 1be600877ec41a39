"""A person's erasure with `ccgateway serve` as installed, over a real socket: the files the
controller makes are its own alone, the erasure, an objection and their audit entries
outlive a restart, and the number stays suppressed under the key the controller made
beside its database."""

from __future__ import annotations

import re
import time

import httpx

from ccgateway.domain.commands import Interaction, Outcome
from ccgateway.domain.privacy import pseudonym
from ccgateway.persistence import SqlInteractionStore
from ccgateway.persistence.database import open_database
from ccgateway.persistence.outbound_store import SqlOutboundStore
from ccgateway.ports import InteractionQuery
from tests.installed.conftest import ServedController
from tests.installed.test_list_commands import ccgateway

NUMBER = "+441632960002"
OBJECTING = "+441632960003"


def test_an_erasure_over_http_outlives_a_restart(served: ServedController) -> None:
    key_file = served.database.parent / "privacy-key"
    for made in (served.database, key_file):
        assert made.stat().st_mode & 0o077 == 0, f"{made} is readable by others"

    with httpx.Client(base_url=served.base_url, headers=served.auth, timeout=10) as client:
        objected = client.post("/v1/privacy/objections", json={"number": OBJECTING})
        assert objected.status_code == 200, objected.text
        listed = client.post("/v1/dnc", json={"numbers": [NUMBER], "reason": "objected"})
        assert listed.status_code == 200, listed.text
        erased = client.post("/v1/privacy/erasures", json={"number": NUMBER})
        assert erased.status_code == 200, erased.text
        assert erased.json()["erased"]["suppressions"] == 1
        subject = erased.json()["subject"]

    served.restart()
    with httpx.Client(base_url=served.base_url, headers=served.auth, timeout=10) as client:
        held = client.get("/v1/privacy/export", params={"number": NUMBER}).json()["data"]
        assert all(rows == [] for rows in held.values()), held
        audit = client.get("/v1/privacy/audit").json()
        objections = client.get("/v1/privacy/objections").json()
    key = key_file.read_text().strip().encode()
    assert [(e["action"], e["subject"]) for e in audit] == [
        ("export", subject),
        ("erase", subject),
        ("objection", pseudonym(key, OBJECTING)),
    ]
    assert [(o["number"], o["reason"]) for o in objections] == [
        (OBJECTING, "objection (GDPR art. 21)")
    ]
    assert subject == pseudonym(key, NUMBER)
    engine = open_database(f"sqlite:///{served.database}")
    try:
        store = SqlOutboundStore(engine, pseudonym=lambda n: pseudonym(key, n))
        assert store.suppressed([NUMBER]) == {NUMBER: "forgotten"}
    finally:
        engine.dispose()


def test_ccgateway_purge_goes_through_the_controller_or_to_the_database(
    served: ServedController,
) -> None:
    policy = {"default": {"interactions": 30}}
    with httpx.Client(base_url=served.base_url, headers=served.auth, timeout=10) as client:
        assert client.put("/v1/retention", json=policy).status_code == 200
    done = ccgateway(served, "purge")
    assert done.returncode == 0, done.stderr
    assert f"purged (by the controller at {served.base_url})" in done.stdout
    assert "POST /v1/retention/purge" in served.log()

    served.stop()  # now the command purges the database itself
    engine = open_database(f"sqlite:///{served.database}")
    old = time.time() - 40 * 86400
    record = Interaction("c1", "q", None, NUMBER, Outcome.ABANDONED, old, None, old + 9, 9, 0, 0)
    SqlInteractionStore(engine).add(record)
    engine.dispose()
    done = ccgateway(served, "purge")
    assert done.returncode == 0, done.stderr
    assert "purged (no controller running: the database itself)" in done.stdout
    assert re.search(r"interactions\s+1\n", done.stdout), done.stdout
    engine = open_database(f"sqlite:///{served.database}")
    try:
        assert SqlInteractionStore(engine).query(InteractionQuery()) == []
    finally:
        engine.dispose()
