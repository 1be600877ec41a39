"""A controller of a pair (`ha.mode = "pair"`): a standby until it takes the lease, then the
active controller, built and run by the normal start path (app.py).

    start ── PostgreSQL? advertised URL? ──no──▶ refuse to start (exit 2)
      │
    standby: serve health (503, who is active), forward the rest to the active's URL;
      │      ask for the lease every poll (services/lease.py)
    lease taken (epoch N) ── keep renewing it from now on
      │
    build the controller (app.build_controller: the database read, the PBXs' full resync as
      │      at any start), every write fenced at epoch N, every PBX command gated
    active: serve the API until stopped (lease released: the standby takes over at once)
      │      or the lease lost (exit 75 at once: the service manager starts it again, a standby),
      │      leaving the facts it could not write for the active (services/handover.py)

The composition only: the lease's rules are in services/lease.py and persistence/lease_store.py.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable

import uvicorn
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from ccgateway.api.standby import StandbyApp
from ccgateway.app import build_controller, serve
from ccgateway.logs import uvicorn_log_config
from ccgateway.pbx.freeswitch.adapter import MARK_EVERY_S
from ccgateway.persistence import open_database
from ccgateway.persistence.handover_store import SqlHandoverStore
from ccgateway.persistence.lease_store import Fence, SqlLeaseStore, lease_engine
from ccgateway.ports import HandoverStore, Owner, OwnerMarked
from ccgateway.services import handover
from ccgateway.services.lease import LeaseKeeper
from ccgateway.settings import AsteriskSettings, Settings

log = logging.getLogger("ccgateway")

EXIT_LEASE_LOST = 75  # EX_TEMPFAIL: a service manager's Restart=on-failure starts it again


def pair_problem(settings: Settings) -> str | None:
    """Why these settings cannot run a pair (None: they can)."""
    if make_url(settings.database_url).get_backend_name() != "postgresql":
        return (
            'ha.mode = "pair" needs PostgreSQL (database_url = "postgresql://..."), shared by '
            "the pair: SQLite is for a single controller"
        )
    if not settings.ha.advertise_url:
        return (
            'ha.mode = "pair" needs ha.advertise_url: the URL clients reach this controller\'s '
            "API at, where the standby sends them"
        )
    refresh = [  # how often each driven PBX's owner mark is rewritten
        p.ping_interval_s if isinstance(p, AsteriskSettings) else MARK_EVERY_S
        for p in settings.pbx_sections().values()
        if p.enabled
    ]
    slowest = max(refresh, default=0.0)
    if 0 < settings.ha.ride_s < 2 * slowest:
        return (
            f"ha.ride_s ({settings.ha.ride_s} s) must be at least twice the slowest owner "
            f"mark's refresh ({slowest} s: an Asterisk's ping_interval_s, a FreeSWITCH's "
            f"{MARK_EVERY_S} s), or 0"
        )
    if settings.database_journal_file is not None:
        return (
            'ha.mode = "pair" keeps no database_journal_file: a write kept under a lease '
            "since lost must not be replayed over the next active's"
        )
    return None


def run_pair(settings: Settings) -> int:
    """Run one controller of a pair until it is stopped (0) or loses the lease (75)."""
    problem = pair_problem(settings)
    if problem is not None:
        log.error("cannot start: %s", problem)
        return 2
    ha = settings.ha
    try:
        open_database(settings.database_url).dispose()  # the schema at the head, lease included
        engine = lease_engine(settings.database_url, ha.lease_s)
        store = SqlLeaseStore(engine)
    except (ValueError, SQLAlchemyError) as exc:
        log.error("cannot start: %s", exc)
        return 2
    keeper = LeaseKeeper(
        store,
        settings.node_id(),
        ha.advertise_url,
        ha.lease_s,
        ha.renew_s,
        on_lost=(departure := Departure()),
        ride_s=ha.ride_s,
    )
    log.info(
        "ccgateway %s (pair) on http://%s:%s: standby until it holds the lease",
        keeper.node,
        settings.api.host,
        settings.api.port,
    )
    try:
        return asyncio.run(run_keeper(settings, keeper, SqlHandoverStore(engine), departure))
    except KeyboardInterrupt:  # uvicorn hands the signal on once it has shut down cleanly
        log.info("ccgateway stopped")
        return 0


class Departure:
    """The keeper's `on_lost`: the lease is lost, so the process ends at once, before anything
    else runs on its loop (no command, no write, no clean-up that could send either); its
    service manager starts it again. Only `leaving` runs first, blocking: an active leaves
    the facts it could not write for the next one (services/handover.py)."""

    def __init__(self) -> None:
        self.leaving: Callable[[], object] | None = None

    def __call__(self, reason: str) -> None:
        if self.leaving is not None:
            try:
                self.leaving()
            except Exception:  # nothing may keep it from exiting
                log.exception("the unwritten writes could not be left")
        log.critical("exiting (%s): a standby takes over", reason)
        logging.shutdown()
        os._exit(EXIT_LEASE_LOST)


async def run_keeper(
    settings: Settings,
    keeper: LeaseKeeper,
    handovers: HandoverStore,
    departure: Departure,
) -> int:
    """Standby, then active (module doc); returns the exit status."""
    redirects = StandbyApp(keeper.node, lambda: keeper.seen)
    standby = uvicorn.Server(
        uvicorn.Config(
            redirects,
            host=settings.api.host,
            port=settings.api.port,
            log_level=settings.log_level.lower(),
            lifespan="off",
            log_config=uvicorn_log_config(settings.log_format),
        )
    )
    waiting = asyncio.create_task(standby.serve(), name="standby")
    acquiring = asyncio.create_task(keeper.acquire(), name="acquire")
    await asyncio.wait({waiting, acquiring}, return_when=asyncio.FIRST_COMPLETED)
    if not acquiring.done():  # stopped while a standby
        acquiring.cancel()
        return 0
    epoch = acquiring.result()
    keeping = asyncio.create_task(keeper.keep(), name="lease")
    # A PBX taken from an older holder's live mark waits out its ride, and the margin the
    # lease keeps for the clocks' rates and a command in flight (services/lease.py).
    hold_s = settings.ha.ride_s + keeper.margin_s if settings.ha.ride_s > 0 else 0.0
    fence = Fence(idle_s=settings.ha.lease_s)
    fence.hold(keeper.node, epoch)
    try:  # in a thread: the lease is renewed meanwhile, the standby still answers
        controller = await asyncio.to_thread(
            build_controller,
            settings,
            owner=Owner(keeper.node, epoch, keeper.may_command, keeper.may_ride, hold_s),
            fence=fence.install,
        )
    except ValueError as exc:
        log.error("cannot start: %s", exc)
        keeping.cancel()
        keeper.release()
        return 2
    pbxes = controller.dispatcher.pbxes.values()
    keeper.marks = lambda: [p.mark_confirmed_at for p in pbxes if isinstance(p, OwnerMarked)]
    dispatcher = controller.dispatcher
    dispatcher.may_command = keeper.may_try  # each PBX link asks may_ride
    controller.api.state.ha = keeper.role
    departure.leaving = lambda: handover.leave(
        handovers, keeper.node, epoch, dispatcher.unwritten(keeper.commanded_until())
    )
    controller.jobs.append(lambda: handover.take_in(handovers, dispatcher))

    async def release() -> None:  # the last stop (uvicorn then ends the process on SIGTERM)
        keeping.cancel()
        await asyncio.to_thread(keeper.release)

    controller.stops.append(release)
    standby.should_exit = True
    await waiting
    await redirects.aclose()
    log.info("%s active at epoch %d on %s", keeper.node, epoch, settings.ha.advertise_url)
    serving = asyncio.create_task(serve(controller), name="controller")
    await asyncio.wait({serving, keeping}, return_when=asyncio.FIRST_COMPLETED)
    if keeping.done() and not keeping.cancelled():  # lost (exit_now has ended it already)
        serving.cancel()
        keeping.result()  # raises LeaseLost
    await release()  # (stopped some other way than by a signal)
    serving.result()
    return 0
