"""The dialer's store on SQLite and on a real PostgreSQL server (the `url` and `engine`
fixtures of test_stores.py): one suite, both databases."""

from __future__ import annotations

import dataclasses
import os
import time

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from ccgateway.domain.errors import Conflict, InvalidValue, NotFound
from ccgateway.domain.outbound.campaigns import (
    Campaign,
    CampaignState,
    DialMode,
    DialOutcome,
)
from ccgateway.domain.outbound.contacts import (
    Consent,
    Contact,
    ContactList,
    ContactState,
    Progress,
)
from ccgateway.domain.outbound.records import DialRecord, DispositionRecord, RefusalRecord
from ccgateway.domain.outbound.rules import UK, Basis, LineType, Purpose, custom_rule_set
from ccgateway.domain.recording import RecordingMode, RecordingPolicy
from ccgateway.persistence import open_database
from ccgateway.persistence.outbound_store import SqlOutboundStore
from ccgateway.persistence.tables import SCHEMA_VERSION
from ccgateway.ports import DueQuery
from tests.persistence import test_stores
from tests.persistence.before_alembic import as_before_alembic
from tests.persistence.test_stores import rows, versions

# The fixtures of test_stores.py (each test runs on SQLite and on PostgreSQL).
url, engine = test_stores.url, test_stores.engine

NOW = 1_796_126_400.0


def campaign(campaign_id: str = "sales", **changes: object) -> Campaign:
    base = Campaign(
        id=campaign_id,
        name="Sales",
        purpose=Purpose.SERVICE,
        rule_set_id="uk",
        mode=DialMode.PREDICTIVE,
        queue_id="out",
        caller_id="+442071234567",
        abandon_message="ccgw-abandon",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def contact(n: int, list_id: str = "l1", **changes: object) -> Contact:
    base = Contact(
        id=f"c{n}",
        list_id=list_id,
        number=f"+4479460{n:05d}",
        time_zones=("Europe/London",),
        line_type=LineType.MOBILE,
        region="GB",
        name=f"Person {n}",
        consents={Purpose.MARKETING: Consent(Basis.EXPRESS, NOW - 86400.5, "web form")},
        fields={"order": f"A-{n}", "note": "ünïcode ok"},
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def a_list(list_id: str = "l1", campaign_id: str = "sales", size: int = 0) -> ContactList:
    return ContactList(list_id, campaign_id, f"List {list_id}", NOW, size, 2, "leads.csv")


def store_with(engine: Engine, *campaign_ids: str) -> SqlOutboundStore:
    store = SqlOutboundStore(engine)
    for campaign_id in campaign_ids or ("sales",):
        store.put_campaign(campaign(campaign_id), CampaignState.RUNNING)
    return store


def imported(store: SqlOutboundStore, numbers: range, campaign_id: str = "sales") -> None:
    store.import_contacts(a_list(campaign_id=campaign_id), [contact(n) for n in numbers])


def ids(entries: list[tuple[Contact, Progress]]) -> list[str]:
    return [c.id for c, _ in entries]


# --- configuration ---------------------------------------------------------------------------


def test_rule_sets_and_campaigns_with_their_state_survive_a_restart(url: str) -> None:
    engine = open_database(url)
    store = SqlOutboundStore(engine)
    changes = {"grace_s": 1.5, "min_ring_s": 20.0, "recording_needs_consent": True}
    house = custom_rule_set("house", "House rules", "uk", changes)
    store.put_rule_set(house)
    recording = RecordingPolicy(RecordingMode.SAMPLED, 0.5)
    survey = campaign("survey", rule_set_id="house", ring_s=25.0, max_lines=12, recording=recording)
    store.put_campaign(survey, CampaignState.PAUSED)
    store.put_campaign(campaign("alpha"), CampaignState.STOPPED)
    engine.dispose()

    reopened = SqlOutboundStore(open_database(url))
    assert reopened.load_config() == (
        [house],
        [(campaign("alpha"), CampaignState.STOPPED), (survey, CampaignState.PAUSED)],
    )
    reopened.put_campaign(dataclasses.replace(survey, name="Survey 2"), CampaignState.RUNNING)
    reopened.delete_rule_set("house")
    reopened.delete_campaign("alpha")
    reopened.delete_rule_set("nothing")  # unknown ids: nothing to do
    reopened.delete_campaign("nothing")
    assert reopened.load_config() == (
        [],
        [(dataclasses.replace(survey, name="Survey 2"), CampaignState.RUNNING)],
    )


def test_a_preset_is_never_stored(engine: Engine) -> None:
    store = SqlOutboundStore(engine)
    with pytest.raises(InvalidValue, match="preset"):
        store.put_rule_set(UK)
    assert store.load_config() == ([], [])


def test_a_corrupt_campaign_row_is_refused_with_invalid_value(engine: Engine) -> None:
    store = store_with(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE campaigns SET settings = '{\"ring_s\": 1}'"))
    with pytest.raises(InvalidValue, match="stored campaign sales"):
        store.load_config()


# --- contacts --------------------------------------------------------------------------------


def test_contacts_read_back_whole_with_their_list_and_new_progress(engine: Engine) -> None:
    store = store_with(engine)
    business = contact(3, business=True, priority=-5, time_zones=("Europe/London", "UTC"))
    contacts = [contact(1), contact(2, consents={}, fields={}), business]
    store.import_contacts(a_list(size=3), contacts)
    assert store.lists("sales") == [a_list(size=3)]
    assert store.contact("sales", "c3") == (business, Progress("c3", "sales"))
    assert store.contact("sales", "c9") is None and store.contact("other", "c1") is None
    assert store.contacts("sales", None, 10, 0) == [(c, Progress(c.id, "sales")) for c in contacts]
    assert ids(store.contacts("sales", None, 2, 1)) == ["c2", "c3"]
    assert store.contacts("sales", ContactState.DONE, 10, 0) == []
    assert store.counts("sales") == {
        "new": 3,
        "scheduled": 0,
        "dialing": 0,
        "done": 0,
        "suppressed": 0,
    }


def test_an_import_is_whole_or_nothing(engine: Engine) -> None:
    store = store_with(engine, "sales", "other")
    imported(store, range(1, 4))
    with pytest.raises(Conflict, match="c7 is in the list twice"):
        store.import_contacts(a_list("l2"), [contact(n, "l2") for n in (5, 7, 6, 7)])
    with pytest.raises(Conflict):  # c3 is in the campaign already
        store.import_contacts(a_list("l2"), [contact(n, "l2") for n in (4, 5, 3)])
    with pytest.raises(Conflict):  # the list's id is taken
        store.import_contacts(a_list("l1"), [contact(9)])
    with pytest.raises(NotFound):
        store.import_contacts(a_list("l2", "nowhere"), [contact(n, "l2") for n in (4,)])
    with pytest.raises(InvalidValue, match="of list l1, not l2"):
        store.import_contacts(a_list("l2"), [contact(4)])
    assert [cl.id for cl in store.lists("sales")] == ["l1"]
    assert ids(store.contacts("sales", None, 10, 0)) == ["c1", "c2", "c3"]
    assert rows(engine, "contacts") == 3 and rows(engine, "contact_lists") == 1
    imported(store, range(1, 4), "other")  # the same contacts in another campaign: fine
    assert store.counts("other")["new"] == 3


def test_progress_is_saved_whole_and_dialing_contacts_are_found_after_a_restart(
    engine: Engine,
) -> None:
    store = store_with(engine, "sales", "other")
    imported(store, range(1, 4))
    imported(store, range(1, 3), "other")
    dialing = Progress(
        "c2",
        "sales",
        ContactState.DIALING,
        attempts=3,
        next_at=NOW - 60.25,
        last_outcome="busy",
        outcomes={"busy": 2, "no_answer": 1},
        callback_at=NOW - 60.25,
        callback_agent_id="ann",
        dial_id="ob-1234",
        updated_at=NOW,
    )
    store.save_progress(dialing)
    store.save_progress(dataclasses.replace(dialing, contact_id="c1", campaign_id="other"))
    store.save_progress(dataclasses.replace(dialing, contact_id="c9"))  # unknown: nothing
    assert store.contact("sales", "c2") == (contact(2), dialing)
    assert [(c.id, p.campaign_id, p.dial_id) for c, p in store.dialing()] == [
        ("c1", "other", "ob-1234"),
        ("c2", "sales", "ob-1234"),
    ]
    assert store.counts("sales")["dialing"] == 1
    done = dataclasses.replace(dialing, state=ContactState.DONE, dial_id=None, outcomes={})
    store.save_progress(done)
    assert store.contact("sales", "c2") == (contact(2), done)
    assert ids(store.contacts("sales", ContactState.DONE, 10, 0)) == ["c2"]


def schedule(store: SqlOutboundStore, n: int, **changes: object) -> None:
    progress = Progress(f"c{n}", "sales", ContactState.SCHEDULED, attempts=1, updated_at=NOW)
    store.save_progress(dataclasses.replace(progress, **changes))  # type: ignore[arg-type]


def test_due_contacts_come_best_first(engine: Engine) -> None:
    store = store_with(engine)
    priorities = {4: 5, 5: 5, 6: 5, 7: 9, 10: 5}
    store.import_contacts(
        a_list(), [contact(n, priority=priorities.get(n, 0)) for n in range(1, 13)]
    )
    # c1, c2, c3: new, priority 0; c4..c6 and c10: priority 5; c7: priority 9
    schedule(store, 4, next_at=NOW - 10)  # a retry due
    schedule(store, 5, next_at=NOW - 500)  # a retry due longer
    schedule(store, 8, next_at=NOW + 1)  # not yet
    schedule(store, 9, next_at=NOW - 5, callback_at=NOW - 5)  # a callback due
    schedule(store, 11, next_at=NOW - 50, callback_at=NOW - 50)  # an older promise
    schedule(store, 12, next_at=NOW - 99, callback_at=NOW - 99, callback_agent_id="ann")
    schedule(store, 3, state=ContactState.DIALING, dial_id="ob-3")
    store.save_progress(Progress("c2", "sales", ContactState.DONE))
    store.save_progress(Progress("c10", "sales", ContactState.SUPPRESSED))
    # callbacks first (oldest promise first), then priority; within a priority the due
    # retries by due time, then the new contacts (no due time), then by id
    everyone = ["c11", "c9", "c7", "c5", "c4", "c6", "c1"]
    assert ids(store.due(DueQuery("sales", NOW, 50))) == everyone
    for count in range(len(everyone) + 2):  # each read stops at the count
        assert ids(store.due(DueQuery("sales", NOW, count))) == everyone[:count]
    owned = ids(store.due(DueQuery("sales", NOW, 50, owned_callbacks=True)))
    assert owned == ["c12", *everyone]
    left_out = frozenset({"c11", "c5", "c1", "c99"})
    assert ids(store.due(DueQuery("sales", NOW, 50, left_out))) == ["c9", "c7", "c4", "c6"]
    assert ids(store.due(DueQuery("sales", NOW + 1, 50)))[-2:] == ["c8", "c1"]
    assert store.due(DueQuery("sales", NOW, 0)) == []
    assert store.due(DueQuery("other", NOW, 50)) == []


def test_due_leaves_out_more_ids_than_one_in_list_holds(engine: Engine) -> None:
    store = store_with(engine)
    imported(store, range(1, 1301))
    exclude = frozenset(f"c{n}" for n in range(1, 1300))  # three chunks of ids
    assert ids(store.due(DueQuery("sales", NOW, 10, exclude))) == ["c1300"]


def test_deleting_a_campaign_takes_its_contacts_and_keeps_its_records(engine: Engine) -> None:
    store = store_with(engine, "sales", "other")
    imported(store, range(1, 4))
    imported(store, range(1, 2), "other")
    store.add_dial(dial("ob-1", 10.0))
    store.add_disposition(disposition("ob-1", 20.0))
    store.add_refusal(refusal(30.0))
    store.delete_campaign("sales")
    assert store.lists("sales") == [] and store.contact("sales", "c1") is None
    assert store.counts("sales")["new"] == 0 and store.counts("other")["new"] == 1
    assert [d.id for d in store.dials("sales", None, 10)] == ["ob-1"]
    assert len(store.dispositions("sales", None)) == 1
    assert len(store.refusals("sales", None, 10)) == 1
    store.put_campaign(campaign(), CampaignState.STOPPED)
    imported(store, range(1, 4))  # the same ids again: a new campaign of the same name
    assert store.counts("sales")["new"] == 3


# --- do-not-call lists -------------------------------------------------------------------------


def test_suppressing_adds_only_new_numbers_and_says_how_many(engine: Engine) -> None:
    store = SqlOutboundStore(engine)
    assert store.suppress("internal", ["+441111", "+442222", "+441111"], "objected", 5.0) == 2
    assert store.suppress("internal", ["+441111", "+443333"], "asked again", 6.0) == 1
    assert store.suppress("internal", [], "nothing", 7.0) == 0
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT reason, added_at FROM suppressions WHERE number = '+441111'")
        ).one()
    assert tuple(found) == ("objected", 5.0)  # the first reason and time stay
    assert store.suppressed(["+441111", "+443333", "+449999"]) == {
        "+441111": "internal",
        "+443333": "internal",
    }


def test_a_register_is_replaced_whole_and_its_screening_recorded(engine: Engine) -> None:
    store = SqlOutboundStore(engine)
    store.suppress("internal", ["+441111"], "objected", 1.0)
    assert store.replace_register("tps", ["+441111", "+442222", "+442222"], 10.0) == 2
    assert store.replace_register("national", ["+15550001"], 11.0) == 1
    assert store.suppressed(["+441111", "+442222"]) == {
        "+441111": "internal",  # on two lists: the first by name
        "+442222": "tps",
    }
    assert store.replace_register("tps", ["+443333"], 20.0) == 1
    assert store.suppressed(["+441111", "+442222", "+443333", "+15550001"]) == {
        "+441111": "internal",
        "+443333": "tps",
        "+15550001": "national",
    }
    assert store.screened() == {"tps": 20.0, "national": 11.0}
    with pytest.raises(InvalidValue, match="internal"):
        store.replace_register("internal", [], 30.0)
    assert store.suppressed(["+441111"]) == {"+441111": "internal"}


def test_a_screening_written_in_parts_only_adds_until_it_is_finished(engine: Engine) -> None:
    store = SqlOutboundStore(engine)
    store.suppress("internal", ["+441111"], "objected", 1.0)
    assert store.replace_register("tps", ["+441111", "+442222", "+443333"], 10.0) == 3
    store.screen_numbers("tps", ["+443333", "+444444"], "screening b", 20.0)
    # Half-way: the old screening's numbers and the new part's, the old time.
    assert store.suppressed(["+441111", "+442222", "+443333", "+444444"]) == {
        "+441111": "internal",
        "+442222": "tps",
        "+443333": "tps",
        "+444444": "tps",
    }
    assert store.screened() == {"tps": 10.0}
    store.screen_numbers("tps", ["+445555", "+445555", "+443333"], "screening b", 20.0)
    assert store.finish_screening("tps", "screening b", 20.0) == 3
    assert store.suppressed(["+441111", "+442222", "+443333", "+444444", "+445555"]) == {
        "+441111": "internal",  # another list, untouched
        "+443333": "tps",
        "+444444": "tps",
        "+445555": "tps",
    }
    assert store.screened() == {"tps": 20.0}
    # A screening with nothing in it empties the register.
    assert store.finish_screening("tps", "screening c", 30.0) == 0
    assert store.suppressed(["+443333"]) == {}
    for refused in ("internal", "Not A Register!"):
        with pytest.raises(InvalidValue):
            store.screen_numbers(refused, ["+446666"], "screening d", 40.0)
        with pytest.raises(InvalidValue):
            store.finish_screening(refused, "screening d", 40.0)
    assert store.suppressed(["+446666"]) == {}


def test_suppressed_looks_up_many_numbers_in_chunks(engine: Engine) -> None:
    store = SqlOutboundStore(engine)
    numbers = [f"+44207{n:06d}" for n in range(1200)]
    assert store.replace_register("tps", numbers[::2], 1.0) == 600
    found = store.suppressed(numbers)
    assert found == {n: "tps" for n in numbers[::2]}


# --- records -----------------------------------------------------------------------------------


def dial(dial_id: str, at: float, campaign_id: str = "sales", **changes: object) -> DialRecord:
    base = DialRecord(
        dial_id,
        campaign_id,
        "c1",
        "+447946000001",
        "uk",
        DialMode.PREDICTIVE,
        "+442071234567",
        at,
        at + 60.5,
        DialOutcome.CONNECTED,
        answered_at=at + 9.25,
        live_at=at + 11.0,
        connected_at=at + 11.75,
        agent_id="ann",
        amd="human",
        at_risk=True,
        detail="agent took it",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def disposition(dial_id: str, at: float, **changes: object) -> DispositionRecord:
    base = DispositionRecord(
        dial_id,
        "sales",
        "c1",
        "ann",
        "callback",
        at,
        {"happy": True, "score": 7.0, "why": "price"},
        "call after 6",
        at + 86400.0,
        "ann",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def refusal(at: float, **changes: object) -> RefusalRecord:
    base = RefusalRecord("sales", "c1", "+447946000001", "calling_hours", "21:05", at, at + 3600)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_dials_read_back_whole_oldest_first_and_once(engine: Engine) -> None:
    store = SqlOutboundStore(engine)
    bare = dial(
        "ob-3",
        30.0,
        "other",
        outcome=DialOutcome.NO_ANSWER,
        answered_at=None,
        live_at=None,
        connected_at=None,
        agent_id=None,
        amd="",
        at_risk=False,
        detail="",
    )
    for record in (dial("ob-2", 20.0), bare, dial("ob-1", 10.0), dial("ob-0", 20.0)):
        store.add_dial(record)
    with pytest.raises(Conflict):
        store.add_dial(dial("ob-1", 99.0))
    assert store.dials(None, None, 10) == [
        dial("ob-1", 10.0),
        dial("ob-0", 20.0),  # the same time: by id
        dial("ob-2", 20.0),
        bare,
    ]
    assert [d.id for d in store.dials("sales", 20.0, 10)] == ["ob-0", "ob-2"]  # inclusive
    assert [d.id for d in store.dials(None, None, 2, offset=1)] == ["ob-0", "ob-2"]
    assert [d.id for d in store.dials("other", None, 10)] == ["ob-3"]


def test_dispositions_and_refusals_read_back_whole_oldest_first(engine: Engine) -> None:
    store = SqlOutboundStore(engine)
    plain = disposition("ob-2", 20.0, answers={}, note="", callback_at=None, code="sale")
    for record in (disposition("ob-1", 30.0), plain, disposition("ob-9", 5.0, campaign_id="x")):
        store.add_disposition(record)
    assert store.dispositions("sales", None) == [plain, disposition("ob-1", 30.0)]
    [loaded] = store.dispositions("sales", 25.0)
    assert [type(v) for v in loaded.answers.values()] == [bool, float, str]
    final = refusal(50.0, rule="suppressed", retry_at=None)
    for refused in (refusal(40.0), final, refusal(10.0, campaign_id="other")):
        store.add_refusal(refused)
    assert store.refusals("sales", None, 10) == [refusal(40.0), final]
    assert store.refusals("sales", 41.0, 10) == [final]
    assert store.refusals("sales", None, 1) == [refusal(40.0)]


@pytest.mark.parametrize(
    ("table", "change"),
    [
        ("dial_records", "UPDATE dial_records SET outcome = 'busy'"),
        ("dial_records", "DELETE FROM dial_records"),
        ("dispositions", "UPDATE dispositions SET code = 'sale'"),
        ("dispositions", "DELETE FROM dispositions"),
        ("refusals", "UPDATE refusals SET rule = 'none'"),
        ("refusals", "DELETE FROM refusals"),
    ],
)
def test_the_database_itself_refuses_to_change_a_record(
    engine: Engine, table: str, change: str
) -> None:
    store = SqlOutboundStore(engine)
    store.add_dial(dial("ob-1", 10.0))
    store.add_disposition(disposition("ob-1", 20.0))
    store.add_refusal(refusal(30.0))
    with pytest.raises(IntegrityError, match="append-only"), engine.begin() as connection:
        connection.execute(text(change))
    assert rows(engine, table) == 1
    assert store.dials(None, None, 10) == [dial("ob-1", 10.0)]
    assert store.dispositions("sales", None) == [disposition("ob-1", 20.0)]
    assert store.refusals("sales", None, 10) == [refusal(30.0)]


def test_the_triggers_are_made_again_on_every_open(url: str) -> None:
    engine = open_database(url)
    SqlOutboundStore(engine).add_refusal(refusal(30.0))
    drop = (
        "DROP TRIGGER refusals_no_update"
        if engine.dialect.name == "sqlite"
        else "DROP TRIGGER refusals_append_only ON refusals"
    )
    with engine.begin() as connection:
        connection.execute(text(drop))
    engine.dispose()
    reopened = open_database(url)
    with pytest.raises(IntegrityError, match="append-only"), reopened.begin() as connection:
        connection.execute(text("UPDATE refusals SET rule = 'none'"))
    if reopened.dialect.name == "postgresql":  # SQLite has no TRUNCATE
        with pytest.raises(IntegrityError, match="TRUNCATE"), reopened.begin() as connection:
            connection.execute(text("TRUNCATE refusals"))
    assert rows(reopened, "refusals") == 1
    reopened.dispose()
    open_database(url).dispose()  # and opening again changes nothing


def test_a_version_4_database_gets_the_dialer_tables(url: str) -> None:
    engine = open_database(url)
    with engine.begin() as connection:  # what version 4 looked like
        for table in (
            "contacts",
            "contact_lists",
            "campaigns",
            "rule_sets",
            "dial_records",
            "dispositions",
            "refusals",
            "suppressions",
            "registers",
        ):
            connection.execute(text(f"DROP TABLE {table}"))
        connection.execute(text("DELETE FROM schema_version"))
        connection.execute(text("INSERT INTO schema_version (version) VALUES (4)"))
        as_before_alembic(connection)  # before Alembic
    engine.dispose()
    upgraded = open_database(url)
    assert versions(upgraded) == list(range(4, SCHEMA_VERSION + 1))
    store = store_with(upgraded)
    imported(store, range(1, 3))
    store.add_refusal(refusal(30.0))
    with pytest.raises(IntegrityError, match="append-only"), upgraded.begin() as connection:
        connection.execute(text("DELETE FROM refusals"))
    upgraded.dispose()


def test_a_version_5_database_reads_due_contacts_from_the_new_indexes(url: str) -> None:
    engine = open_database(url)
    with engine.begin() as connection:  # what version 5 had
        connection.execute(text("DROP INDEX ix_contacts_order"))
        connection.execute(text("DROP INDEX ix_contacts_callbacks"))
        connection.execute(
            text("CREATE INDEX ix_contacts_due ON contacts (campaign_id, state, next_at)")
        )
        connection.execute(text("DELETE FROM schema_version"))
        connection.execute(text("INSERT INTO schema_version (version) VALUES (5)"))
        as_before_alembic(connection)  # before Alembic
    engine.dispose()
    upgraded = open_database(url)
    assert versions(upgraded) == list(range(5, SCHEMA_VERSION + 1))
    indexes = {i["name"] for i in inspect(upgraded).get_indexes("contacts")}
    assert {"ix_contacts_order", "ix_contacts_callbacks"} <= indexes
    assert "ix_contacts_due" not in indexes
    store = store_with(upgraded)
    imported(store, range(1, 4))
    assert ids(store.due(DueQuery("sales", NOW, 2))) == ["c1", "c2"]
    upgraded.dispose()


# --- size --------------------------------------------------------------------------------------

# 20,000 by default (a few seconds); CCGW_IMPORT_SIZE=100000 for the full measure.
IMPORT_SIZE = int(os.environ.get("CCGW_IMPORT_SIZE", "20000"))


def test_a_large_import_takes_seconds_and_a_failed_one_leaves_nothing(engine: Engine) -> None:
    store = store_with(engine)
    contacts = [
        Contact(f"k{n}", "big", f"+4420{n:08d}", ("Europe/London",), fields={"order": str(n)})
        for n in range(IMPORT_SIZE)
    ]
    started = time.perf_counter()
    store.import_contacts(a_list("big", size=IMPORT_SIZE), contacts)
    imported_s = time.perf_counter() - started
    started = time.perf_counter()
    due = store.due(DueQuery("sales", NOW, 50))
    due_s = time.perf_counter() - started
    # a second list whose last contact is already in the campaign: nothing of it stays
    again = [dataclasses.replace(c, id=f"x{c.id}", list_id="big2") for c in contacts]
    again[-1] = dataclasses.replace(contacts[0], list_id="big2")
    started = time.perf_counter()
    with pytest.raises(Conflict):
        store.import_contacts(a_list("big2", size=IMPORT_SIZE), again)
    refused_s = time.perf_counter() - started
    print(
        f"\n{engine.dialect.name}: {IMPORT_SIZE} contacts imported in {imported_s:.2f} s, "
        f"due(50) in {due_s * 1000:.0f} ms, a refused import rolled back in {refused_s:.2f} s"
    )
    assert ids(due) == sorted(f"k{n}" for n in range(IMPORT_SIZE))[:50]
    assert store.counts("sales")["new"] == IMPORT_SIZE
    assert [cl.id for cl in store.lists("sales")] == ["big"]
    assert imported_s < IMPORT_SIZE / 2000  # at least 2,000 contacts a second
