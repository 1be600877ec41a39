"""`ccgateway purge`: delete now what is past its retention period, as the controller's
schedule does.

While a controller runs (at the config's API address, or `--url`) the purge is its to do
(`POST /v1/retention/purge`), so its writes and the purge's take turns in its one writer.
Only when nothing listens there is the database purged directly, in the same batches.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from ccgateway.contacts_cli import (
    Refused,
    add_controller_options,
    running_controller,
    tool_database,
)
from ccgateway.domain.errors import DomainError
from ccgateway.domain.outbound.rules import PRESETS
from ccgateway.domain.retention import Kind, purge_plan
from ccgateway.persistence.lease_store import StaleEpoch
from ccgateway.settings import Settings, load_settings

PURGE_WAIT_S = 6 * 3600.0  # a first purge of years of records takes a while


def add_purge_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    purge = commands.add_parser(
        "purge", help="delete what is past its retention period now", description=__doc__
    )
    add_controller_options(purge)
    purge.set_defaults(handler=_purge)


def _purge(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args.config)
        controller = running_controller(settings, args.url, args.key_file)
        if controller is None:
            removed = purge_database(settings)
            by = " (no controller running: the database itself)"
        else:
            answer = controller.send("POST", "/v1/retention/purge", b"", "application/json",
                                     wait_s=PURGE_WAIT_S)  # fmt: skip
            removed = {Kind(k): int(n) for k, n in answer["removed"].items()}
            by = f" (by the controller at {controller.url})"
    except (DomainError, Refused, ValueError) as exc:
        print(f"nothing purged: {exc}", file=sys.stderr)
        return 1
    except StaleEpoch as exc:  # the batches before it are purged, each whole
        print(f"purge stopped: {exc}", file=sys.stderr)
        return 1
    print(f"purged{by}:")
    for kind, count in removed.items():
        print(f"  {kind.value:<14} {count:>10,}")
    return 0


def purge_database(settings: Settings, batch: int | None = None) -> dict[Kind, int]:
    """The purge without a controller: the same plan and batches, on the database."""
    from ccgateway.persistence.outbound_store import SqlOutboundStore
    from ccgateway.persistence.privacy_store import SqlPrivacyStore
    from ccgateway.persistence.recording_store import RecordingFiles
    from ccgateway.persistence.retention_store import SqlRetentionStore
    from ccgateway.ports import AuditEntry

    engine = tool_database(settings)
    try:
        store = SqlRetentionStore(engine)
        custom, _ = SqlOutboundStore(engine).load_config()
        rule_sets = {**PRESETS, **{r.id: r for r in custom}}
        now = time.time()
        plan = purge_plan(store.policy(), now, store.campaign_rule_sets(), rule_sets)
        size = batch or settings.retention.batch_rows
        removed = {}
        for kind, scope in plan.items():
            removed[kind] = 0
            while True:
                done, files = store.purge_batch(kind, scope, size)
                RecordingFiles(settings.recordings.directory).delete(files)
                removed[kind] += done
                if done < size:
                    break
        detail = json.dumps({k.value: n for k, n in removed.items()}, sort_keys=True)
        SqlPrivacyStore(engine).add_audit(AuditEntry(time.time(), "cli", "purge", "-", detail))
        return removed
    finally:
        engine.dispose()
