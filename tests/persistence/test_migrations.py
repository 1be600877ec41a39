"""The schema's Alembic history on SQLite and on a real PostgreSQL server: the head equals
tables.py, every revision goes down and up again with rows in every table, and a database
the code before Alembic made (version 10, filled through its stores) is upgraded in place.

The first release's version 1 is here too, made by its own code (legacy/README.md says how);
versions 4-8 are covered where their steps are tested (test_outbound_store, test_notes,
test_erasure, test_recording_consent make a database of that version by hand).
"""

from __future__ import annotations

import glob
import multiprocessing
import shutil
import sqlite3
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, make_url, text
from sqlalchemy.exc import IntegrityError

from ccgateway.cli import main
from ccgateway.domain.agents import AgentState
from ccgateway.domain.commands import Interaction, Outcome
from ccgateway.domain.figures import FigureRules
from ccgateway.domain.model import Skill
from ccgateway.domain.reports import ReportFold
from ccgateway.persistence import SqlConfigStore, SqlInteractionStore, migrate, open_database
from ccgateway.persistence.database import connect
from ccgateway.persistence.report_store import SqlReportStore
from ccgateway.persistence.tables import Base
from ccgateway.ports import InteractionQuery
from tests.persistence import every_table, test_stores
from tests.persistence.test_outbound_store import NOW
from tests.persistence.test_stores import versions

url = test_stores.url  # the fixture: each test runs on SQLite and on PostgreSQL
LEGACY = Path(__file__).parent / "legacy"


def differences(engine: Engine) -> list[object]:
    """What Alembic's autogenerate would change to make the database match tables.py."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        found: list[object] = compare_metadata(context, Base.metadata)
        return found


def refuses_changing_a_record(engine: Engine) -> bool:
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE refusals SET rule = 'none'"))
    except IntegrityError as exc:
        return "append-only" in str(exc)
    return False


def ccgateway_tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_a_new_database_is_at_the_head_and_matches_tables_py(url: str) -> None:
    engine = open_database(url)
    assert migrate.current(engine) == migrate.head()
    assert differences(engine) == []
    assert versions(engine) == [10]  # an older ccgateway still opens it (legacy.py)
    every_table.fill(engine)
    assert every_table.empty_tables(engine) == []
    assert refuses_changing_a_record(engine)
    engine.dispose()


def test_every_revision_goes_down_and_up_again_with_its_rows(url: str) -> None:
    engine = open_database(url)
    every_table.fill(engine)
    expected = every_table.read_back(engine)
    history = [script.revision for script in migrate.scripts().walk_revisions()]  # newest first
    assert history[-1] == migrate.BASELINE
    # Down below each revision above the baseline and up to the head again, read back at the
    # head: the stores know only the head's schema (0004 added columns they read).
    for below in history[1:]:
        migrate.downgrade(engine, below)
        assert migrate.current(engine) == below
        migrate.upgrade(engine)
        assert every_table.read_back(engine) == expected, f"{below} -> head"
    assert differences(engine) == []

    migrate.downgrade(engine, "base")  # below the baseline: no table is left, nor any row
    assert migrate.current(engine) is None
    assert ccgateway_tables(engine) == set()
    if engine.dialect.name == "postgresql":  # nor the guards' function
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT to_regproc('ccgw_refuse_change')")) is None
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.head()
    assert differences(engine) == []
    every_table.fill(engine)  # the schema takes the same rows again, and reads them the same
    assert every_table.read_back(engine) == expected
    assert refuses_changing_a_record(engine)
    engine.dispose()


def add_out_of_hands(engine: Engine) -> None:
    """A redirected and a cut-off caller of queue `gone`, through the report store."""
    fold = ReportFold(FigureRules())
    for n, outcome in enumerate([Outcome.REDIRECTED, Outcome.CUT_OFF]):
        end = NOW + 3600 + n
        fold.add_interaction(
            Interaction(f"g{n}", "gone", None, "+1", outcome, end - 20, None, end, 20.0, 0.0, 1)
        )
    SqlReportStore(engine).add(fold.take(NOW + 3600))


def report_columns(engine: Engine) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns("report_queue_intervals")}


def queue_rows(engine: Engine) -> list[tuple[object, ...]]:
    """The queue report's rows, by the columns every revision has."""
    with engine.connect() as connection:
        found = connection.execute(
            text(
                "SELECT queue_id, bucket_start, offered, answered, talk_s"
                " FROM report_queue_intervals ORDER BY queue_id, bucket_start"
            )
        )
        return [tuple(row) for row in found]


def test_0004_counts_redirected_and_cut_off_from_0_on_the_rows_already_there(url: str) -> None:
    engine = open_database(url)
    every_table.fill(engine)
    add_out_of_hands(engine)
    counted = every_table.read_back(engine)
    assert {(k[0], t.redirected, t.cut_off) for k, t in counted["queue_figures"].items()} == {
        ("out", 0, 0),
        ("gone", 1, 1),
    }

    kept = queue_rows(engine)
    migrate.downgrade(engine, "0003_device_per_pbx")  # the columns and their counts go
    assert not report_columns(engine) & {"redirected", "cut_off"}
    assert queue_rows(engine) == kept and {r[0] for r in kept} == {"out", "gone"}

    migrate.upgrade(engine)  # back: the rows there count 0, everything else as it was
    assert {"redirected", "cut_off"} <= report_columns(engine)
    assert differences(engine) == []
    expected = counted | {
        "queue_figures": {
            k: replace(t, redirected=0, cut_off=0) for k, t in counted["queue_figures"].items()
        }
    }
    assert every_table.read_back(engine) == expected
    add_out_of_hands(engine)  # and the upgraded table adds up as a new one does
    assert every_table.read_back(engine) == counted
    engine.dispose()


def load_legacy_dump(url: str, version: int = 10) -> None:
    """A database the code before Alembic made and filled at `version` (legacy/)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database is not None
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(parsed.database) as connection:
            connection.executescript((LEGACY / f"v{version}.sqlite.sql").read_text())
        return
    [psql, *_] = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), reverse=True)
    loaded = subprocess.run(
        [
            psql, "-q", "-v", "ON_ERROR_STOP=1", "-h", str(parsed.host), "-p", str(parsed.port),
            "-U", str(parsed.username), "-d", str(parsed.database),
            "-f", str(LEGACY / f"v{version}.postgresql.sql"),
        ],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr


def test_a_version_10_database_of_the_code_before_alembic_is_upgraded_in_place(
    url: str, tmp_path: Path
) -> None:
    load_legacy_dump(url)
    before = connect(url)
    assert migrate.current(before) is None and versions(before) == [10]
    before.dispose()

    engine = open_database(url)  # as the controller's start does
    assert migrate.current(engine) == migrate.head()
    assert versions(engine) == [10]
    assert differences(engine) == []
    assert every_table.empty_tables(engine) == []
    assert refuses_changing_a_record(engine)
    upgraded = every_table.read_back(engine)
    engine.dispose()

    # The same rows written by this code into a new database read back the same.
    fresh_url = f"sqlite:///{tmp_path}/fresh.db"
    fresh = open_database(fresh_url)
    every_table.fill(fresh)
    assert upgraded == every_table.read_back(fresh)
    fresh.dispose()


def test_a_version_1_database_of_the_first_release_is_upgraded_in_place(url: str) -> None:
    load_legacy_dump(url, version=1)
    engine = open_database(url)
    assert migrate.current(engine) == migrate.head()
    assert versions(engine) == list(range(1, 11))  # each old step, then the baseline
    assert differences(engine) == []  # the old steps end exactly where the baseline starts
    config = SqlConfigStore(engine)
    skills, agents, queues = config.load()
    by_id = sorted(skills, key=lambda s: s.id)
    assert by_id == [Skill("billing", "Billing"), Skill("de", "German")]
    assert agents == [test_stores.ANN]  # attributes and capacity at their defaults (3, 4)
    assert queues == [test_stores.GERMAN]
    assert config.load_presence() == {"ann": (AgentState.PAUSED, "lunch")}
    assert SqlInteractionStore(engine).query(InteractionQuery()) == [
        test_stores.record("c1", 1_700_000_000.125)  # detail, kind, channel: version 4's
    ]
    every_table.fill(engine)  # and every table of today takes its rows
    assert every_table.empty_tables(engine) == []
    assert refuses_changing_a_record(engine)
    engine.dispose()


def test_the_db_command_shows_upgrades_and_downgrades(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    load_legacy_dump(url)  # from before Alembic: `db upgrade` takes it over
    monkeypatch.setenv("CCGW_DATABASE_URL", url)
    config = tmp_path / "empty.toml"
    config.write_text("")
    assert main(["db", "current", "--config", str(config)]) == 0
    assert "none (schema_version 10, before Alembic)" in capsys.readouterr().out
    assert main(["db", "upgrade", "--config", str(config)]) == 0
    assert main(["db", "current", "--config", str(config)]) == 0
    assert f"{migrate.head()} (head)" in capsys.readouterr().out
    assert main(["db", "downgrade", "base", "--config", str(config)]) == 0
    engine = connect(url)
    assert ccgateway_tables(engine) == set()
    engine.dispose()
    assert main(["db", "upgrade", "--config", str(config)]) == 0
    engine = connect(url)
    assert migrate.current(engine) == migrate.head() and differences(engine) == []
    engine.dispose()


def test_a_downgrade_needs_a_revision(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["db", "downgrade"])
    assert "revision" in capsys.readouterr().err


def _open(url: str) -> None:
    open_database(url).dispose()


def test_a_new_database_opened_by_several_processes_at_once_is_made_once(url: str) -> None:
    # Each takes the database's write lock to migrate; the others wait, then find it done.
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        pool.map(_open, [url] * 8)
    engine = connect(url)
    assert migrate.current(engine) == migrate.head()
    assert versions(engine) == [10] and differences(engine) == []
    engine.dispose()


# A revision as a later change would write it: a column added to a parent table, in batch
# mode (on SQLite, a copy of the table, then the old one dropped: with foreign keys on, the
# drop would take the agents' skills, presence and accounts with it).
PROBE = """
from alembic import op
import sqlalchemy as sa

revision = "9999_probe"
down_revision = "{below}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("probe", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("probe")
"""


@pytest.fixture
def scratch_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the history to add revisions to (the package's own stays as it is)."""
    copy = tmp_path / "migrations"
    shutil.copytree(migrate.SCRIPTS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrate, "SCRIPTS", copy)
    return copy


def test_a_revision_in_batch_mode_keeps_every_row_both_ways(
    url: str, scratch_history: Path
) -> None:
    below = migrate.head()  # the probe goes on top of the real history
    (scratch_history / "versions" / "9999_probe.py").write_text(PROBE.format(below=below))
    engine = open_database(url)
    assert migrate.current(engine) == "9999_probe"
    every_table.fill(engine)
    expected = every_table.read_back(engine)
    migrate.downgrade(engine, below)
    assert "probe" not in {c["name"] for c in inspect(engine).get_columns("agents")}
    assert every_table.read_back(engine) == expected and every_table.empty_tables(engine) == []
    assert differences(engine) == []
    migrate.upgrade(engine)
    assert migrate.current(engine) == "9999_probe"
    assert every_table.read_back(engine) == expected
    assert refuses_changing_a_record(engine)
    engine.dispose()


def test_db_revision_drafts_the_next_revision_from_tables_py(
    scratch_history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    below = migrate.head()
    number = sum(1 for _ in migrate.scripts().walk_revisions()) + 1
    assert main(["db", "revision", "The controllers' probe!"]) == 0
    [drafted] = (scratch_history / "versions").glob(f"{number:04d}_*.py")
    assert drafted.name == f"{number:04d}_the_controllers_probe.py"
    assert str(drafted) in capsys.readouterr().out
    text = drafted.read_text()
    assert f'revision: str = "{number:04d}_the_controllers_probe"' in text
    assert f'down_revision: str | None = "{below}"' in text
    # tables.py is the head's schema: nothing to do, which autogenerate says with `pass`
    upgrade = text.split("def upgrade() -> None:")[1].split("def downgrade")[0]
    code = [line.strip() for line in upgrade.splitlines()]
    assert [line for line in code if line and not line.startswith("#")] == ["pass"]
