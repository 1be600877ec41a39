"""`ccgateway dnc` and `ccgateway contacts` as installed, beside a running `ccgateway serve`:
the controller is the one writer of its database, so the commands send their changes to it
(where they also reach the lists it holds in memory), refuse when it refuses, and write the
database themselves only when no controller runs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from tests.installed.conftest import ServedController, entry_point

NUMBER = "+441632960001"


def ccgateway(served: ServedController, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed command with the controller's own config and environment."""
    return subprocess.run(
        [str(entry_point()), *args, "--config", str(served.config_path)],
        env=served.env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=served.folder,
    )


def objection(served: ServedController, number: str) -> int:
    """How many numbers the controller newly listed (0: it listed the number already)."""
    body = {"numbers": [number], "reason": "asked by the test"}
    response = httpx.post(f"{served.base_url}/v1/dnc", json=body, headers=served.auth)
    assert response.status_code == 200, response.text
    added: int = response.json()["added"]
    return added


def test_dnc_add_is_sent_to_the_running_controller(served: ServedController) -> None:
    done = ccgateway(served, "dnc", "add", NUMBER, "--reason", "objected on the phone")
    assert done.returncode == 0, done.stderr
    assert "1 number(s) added to the internal do-not-call list (by the controller at " in (
        done.stdout
    )
    assert "POST /v1/dnc" in served.log()  # the controller's own access log
    assert objection(served, NUMBER) == 0  # on its list already


def test_a_refused_key_writes_nothing(served: ServedController, tmp_path: Path) -> None:
    wrong = tmp_path / "key"
    wrong.write_text("not-the-admin-key-0123456789")
    done = ccgateway(served, "dnc", "add", NUMBER, "--reason", "x", "--key-file", str(wrong))
    assert done.returncode == 1
    assert "nothing added: the controller at" in done.stderr
    assert "refused it" in done.stderr
    assert objection(served, NUMBER) == 1  # the database was not written behind its back


def test_without_a_running_controller_the_database_is_written(served: ServedController) -> None:
    served.stop()
    done = ccgateway(served, "dnc", "add", NUMBER, "--reason", "objected")
    assert done.returncode == 0, done.stderr
    assert "(no controller running: written to the database)" in done.stdout
    served.start()
    assert objection(served, NUMBER) == 0


def test_a_register_is_replaced_by_the_controller(served: ServedController) -> None:
    numbers = served.folder / "tps.txt"
    numbers.write_text("number\n+441632960002\n+441632960003\n+441632960002\n")
    done = ccgateway(served, "dnc", "register", "tps", str(numbers))
    assert done.returncode == 0, done.stderr
    assert "register tps: 2 numbers, screened now (by the controller at" in done.stdout
    registers = httpx.get(f"{served.base_url}/v1/dnc/registers", headers=served.auth).json()
    assert [r["name"] for r in registers] == ["tps"]
    assert objection(served, "+441632960002") == 1  # a register is not the internal list


def test_contacts_import_is_refused_as_the_controller_refuses_it(
    served: ServedController,
) -> None:
    rows = served.folder / "list.csv"
    rows.write_text("number,name\n+441632960004,Ann\n")
    done = ccgateway(served, "contacts", "import", str(rows), "--campaign", "nowhere")
    assert done.returncode == 1
    assert "import refused, nothing stored: the controller at" in done.stderr
    assert "nowhere" in done.stderr


def test_contacts_import_is_sent_to_the_running_controller(served: ServedController) -> None:
    with httpx.Client(base_url=served.base_url, headers=served.auth) as api:
        queue = {"id": "outreach", "name": "Outreach", "extension": "290"}
        assert api.post("/v1/queues", json=queue).status_code == 201
        campaign = {
            "id": "renewals",
            "name": "Renewals",
            "purpose": "service",
            "rule_set_id": "uk",
            "mode": "progressive",
            "queue_id": "outreach",
            "caller_id": "+442079460999",
            "abandon_message": "ccgw-abandon",
        }
        assert api.post("/v1/campaigns", json=campaign).status_code == 201, "campaign"
        rows = served.folder / "spring list.csv"
        rows.write_text("number,name\n+442079460001,Ann\nnot a number,Bo\n+442079460002,Cy\n")
        rejects = served.folder / "rejects.csv"
        done = ccgateway(
            served, "contacts", "import", str(rows), "--campaign", "renewals", "--rejects",
            str(rejects),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "list spring-list: 2 contacts stored in" in done.stdout
        assert "1 row(s) rejected" in done.stdout
        assert rejects.read_text().splitlines()[1].startswith("3,not a number,")
        lists = api.get("/v1/campaigns/renewals/lists").json()
        assert [(item["id"], item["contacts"]) for item in lists] == [("spring-list", 2)]
