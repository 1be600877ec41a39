"""The live dialer: campaigns place calls, people who answer reach agents, every dial is
checked against the law and leaves a record.

How a dial goes, by mode:
- predictive: the pacer (pacing.py) says how many calls to place for the campaign's free
  agents and their expected releases; each goes to the PBX (DialCustomer) with no agent
  kept for it. A person who answers becomes a waiting call in the campaign's queue, at the
  campaign's live priority; the routing engine gives them the first free agent, whose
  phone answers at once (auto-answer). With nobody free within the grace, the PBX plays
  the campaign's message (OutboundAbandoned);
- progressive: one call per free agent, the agent kept (reserved) while it rings: nobody
  can be abandoned. Predictive drops to this while its abandon ledger is at the limit;
- preview: the agent is shown the contact and accepts (then the agent's phone rings first
  and dials the customer, like a callback) or skips;
- callbacks a disposition scheduled go out agent first too, to their owner or to any free
  agent of the campaign.

Each contact is taken from the campaign's hopper (loaded from the store, LoadContacts) and
checked (compliance.py) at the moment of dialling; a refusal is recorded and the contact
moved on. The dial's end is recorded (RecordDial), the contact's progress saved with its
next try (the campaign's retries), and the abandon ledger and the pacer learn from it.

`OutboundDesk` is the one face the centre, the services and the tests see. It owns no
logic: it builds the parts around one `DialerState` and hands each call to its part -
the campaign book (book.py), the placer (placer.py, with gate.py and launch.py), the
trackers of a dial's course (tracker.py, agent_first.py), the settler (settler.py) and
recovery (recovery.py).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping

from ccgateway.domain.calls import Call, CallDesk
from ccgateway.domain.commands import Command, Outcome
from ccgateway.domain.events import LegFailure, PbxResynced
from ccgateway.domain.floor import Floor
from ccgateway.domain.outbound.agent_first import AgentFirstCalls
from ccgateway.domain.outbound.book import CampaignBook
from ccgateway.domain.outbound.campaigns import Campaign, CampaignState
from ccgateway.domain.outbound.contacts import DialLog
from ccgateway.domain.outbound.gate import Gate
from ccgateway.domain.outbound.launch import Launcher
from ccgateway.domain.outbound.placer import Placer
from ccgateway.domain.outbound.records import DialRecord, DispositionRecord
from ccgateway.domain.outbound.recovery import Recovery
from ccgateway.domain.outbound.rules import RuleSet
from ccgateway.domain.outbound.runs import CampaignRun, Dial, Entry
from ccgateway.domain.outbound.settler import Settler
from ccgateway.domain.outbound.state import DialerState
from ccgateway.domain.outbound.steps import DialSteps
from ccgateway.domain.outbound.tracker import Tracker
from ccgateway.domain.timers import TimerKind


class OutboundDesk:
    def __init__(self, floor: Floor, desk: CallDesk) -> None:
        self.state = state = DialerState()
        steps = DialSteps(state, floor, desk)
        launcher = Launcher(state, floor, steps)
        self.book = CampaignBook(state, floor, steps)
        self.settler = Settler(state, floor, steps)
        self.placer = Placer(state, floor, desk, steps, Gate(state), launcher)
        self.agent_first = AgentFirstCalls(state, floor, steps, launcher, self.settler)
        self.tracker = Tracker(state, floor, desk, steps, self.settler, self.agent_first)
        self.recovery = Recovery(state, floor, desk, self.settler, self.tracker, self.agent_first)

    # --- what the views and the services read --------------------------------------------

    @property
    def rule_sets(self) -> dict[str, RuleSet]:
        return self.state.rule_sets

    @property
    def runs(self) -> dict[str, CampaignRun]:
        return self.state.runs

    @property
    def dials(self) -> dict[str, Dial]:
        return self.state.dials

    @property
    def log(self) -> DialLog:
        return self.state.log

    @property
    def suppressed(self) -> dict[str, str]:
        return self.state.suppressed

    @property
    def screened(self) -> dict[str, float]:
        return self.state.screened

    @property
    def ended(self) -> OrderedDict[str, DialRecord]:
        return self.state.ended

    def run(self, campaign_id: str) -> CampaignRun:
        return self.state.run(campaign_id)

    def lines_out(self, campaign_id: str) -> int:
        """The campaign's calls out now (dialled, not only planned)."""
        return self.state.lines(self.state.run(campaign_id))

    def owns_dial(self, dial_id: str) -> bool:
        return dial_id in self.state.dials

    def owns_leg(self, leg_id: str) -> bool:
        return leg_id in self.state.legs

    # --- the campaign book ---------------------------------------------------------------

    def put_rule_set(self, rules: RuleSet) -> None:
        self.book.put_rule_set(rules)

    def remove_rule_set(self, rule_set_id: str) -> None:
        self.book.remove_rule_set(rule_set_id)

    def check_campaign(self, campaign: Campaign) -> RuleSet:
        return self.book.check_campaign(campaign)

    def put_campaign(self, campaign: Campaign, now: float) -> list[Command]:
        return self.book.put_campaign(campaign, now)

    def restore_rule_set(self, rules: RuleSet) -> None:
        self.book.restore_rule_set(rules)

    def restore_campaign(self, campaign: Campaign, state: CampaignState, now: float) -> None:
        self.book.restore_campaign(campaign, state, now)

    def remove_campaign(self, campaign_id: str) -> None:
        self.book.remove_campaign(campaign_id)

    def check_queue_removable(self, queue_id: str) -> None:
        self.book.check_queue_removable(queue_id)

    def set_state(self, campaign_id: str, action: str, now: float) -> list[Command]:
        return self.book.set_state(campaign_id, action, now)

    def load_history(self, records: Iterable[DialRecord], today_from: float) -> None:
        self.book.load_history(records, today_from)

    def drop_loaded(self, campaign_id: str, contact_id: str) -> None:
        self.book.drop_loaded(campaign_id, contact_id)

    def reset_day(self) -> None:
        self.book.reset_day()

    def contacts_loaded(
        self,
        campaign_id: str,
        entries: Iterable[Entry],
        asked: int,
        screened: Mapping[str, float | None],
        now: float,
    ) -> list[Command]:
        return self.book.contacts_loaded(campaign_id, entries, asked, screened, now)

    def suppress(self, number: str, why: str) -> None:
        self.state.suppress(number, why)

    def screening_replaced(self, register: str, at: float) -> None:
        self.book.screening_replaced(register, at)

    # --- placing calls -------------------------------------------------------------------

    def pace(self, now: float) -> list[Command]:
        return self.placer.pace(now)

    def preview_answer(
        self, agent_id: str, dial_id: str, accept: bool, now: float
    ) -> list[Command]:
        return self.placer.preview_answer(agent_id, dial_id, accept, now)

    # --- a dial's course, as the PBX and the call desk report it -------------------------

    def answered(self, dial_id: str, now: float) -> list[Command]:
        return self.tracker.answered(dial_id, now)

    def live(self, dial_id: str, amd: str, now: float) -> list[Command]:
        return self.tracker.live(dial_id, amd, now)

    def connected(self, call_id: str, now: float) -> list[Command]:
        return self.tracker.connected(call_id, now)

    def machine(self, dial_id: str, now: float) -> list[Command]:
        return self.tracker.machine(dial_id, now)

    def failed(self, dial_id: str, failure: LegFailure, detail: str, now: float) -> list[Command]:
        return self.tracker.failed(dial_id, failure, detail, now)

    def abandoned(self, dial_id: str, now: float) -> list[Command]:
        return self.tracker.abandoned(dial_id, now)

    def hung_up(self, channel_id: str, now: float) -> list[Command] | None:
        return self.tracker.hung_up(channel_id, now)

    def call_ended(self, call: Call, outcome: Outcome, now: float) -> list[Command]:
        """The call desk ended an outbound call (the agent or the person hung up)."""
        return self.tracker.call_ended(call, outcome, now)

    def agent_answered(self, leg_id: str, now: float) -> list[Command]:
        return self.agent_first.agent_answered(leg_id, now)

    def agent_failed(self, leg_id: str, failure: LegFailure, now: float) -> list[Command]:
        return self.agent_first.agent_failed(leg_id, failure, now)

    def customer_answered(self, leg_id: str, now: float) -> list[Command]:
        return self.agent_first.customer_answered(leg_id, now)

    def customer_failed(self, leg_id: str, failure: LegFailure, now: float) -> list[Command]:
        return self.agent_first.customer_failed(leg_id, failure, now)

    def fire(self, kind: TimerKind, key: str, now: float) -> list[Command]:
        return self.tracker.fire(kind, key, now)

    # --- a dial's end --------------------------------------------------------------------

    def dispose(
        self,
        dial_id: str,
        agent_id: str,
        code: str,
        answers: Mapping[str, object],
        note: str,
        callback_at: float | None,
        callback_agent_id: str | None,
        now: float,
    ) -> tuple[DispositionRecord, list[Command]]:
        return self.settler.dispose(
            dial_id, agent_id, code, answers, note, callback_at, callback_agent_id, now
        )

    def agent_released(self, agent_id: str, busy_s: float, now: float) -> None:
        """An agent left a call or its wrap-up after `busy_s`: the pacer of the campaign of
        their last call learns from it."""
        self.settler.agent_released(agent_id, busy_s)

    # --- after a reconnect or a restart --------------------------------------------------

    def restore(self, dialing: list[Entry], now: float) -> None:
        self.recovery.restore(dialing, now)

    def resync(self, snapshot: PbxResynced, now: float, pbx: str) -> tuple[set[str], list[Command]]:
        return self.recovery.resync(snapshot, now, pbx)
