"""A person's erasure with `ccgateway serve` as installed, over a real socket: the files the
controller makes are its own alone, the erasure and its audit entry outlive a restart, and
the number stays suppressed under the key the controller made beside its database."""

from __future__ import annotations

import httpx

from ccgateway.domain.privacy import pseudonym
from ccgateway.persistence.database import open_database
from ccgateway.persistence.outbound_store import SqlOutboundStore
from tests.installed.conftest import ServedController

NUMBER = "+441632960002"


def test_an_erasure_over_http_outlives_a_restart(served: ServedController) -> None:
    key_file = served.database.parent / "privacy-key"
    for made in (served.database, key_file):
        assert made.stat().st_mode & 0o077 == 0, f"{made} is readable by others"

    with httpx.Client(base_url=served.base_url, headers=served.auth, timeout=10) as client:
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
        assert [(e["action"], e["subject"]) for e in audit] == [
            ("export", subject),
            ("erase", subject),
        ]
    key = key_file.read_text().strip().encode()
    assert subject == pseudonym(key, NUMBER)
    engine = open_database(f"sqlite:///{served.database}")
    try:
        store = SqlOutboundStore(engine, pseudonym=lambda n: pseudonym(key, n))
        assert store.suppressed([NUMBER]) == {NUMBER: "forgotten"}
    finally:
        engine.dispose()
