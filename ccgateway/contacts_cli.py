"""`ccgateway contacts import` and `ccgateway dnc ...`: lists into the database from a shell.

They write to the controller's database (the config file's `database_url`) directly, in one
transaction each; a running controller finds new contacts the next time it loads some, and
a new register screening at its next load too (the API's PUT /v1/dnc/registers/... also
drops what it had loaded already: prefer it while campaigns are running).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from ccgateway.domain.errors import DomainError
from ccgateway.domain.outbound.contacts import ContactList, check_e164
from ccgateway.importing.contacts_csv import Rejected
from ccgateway.ports import OutboundStore


def add_import_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    contacts = commands.add_parser("contacts", help="a campaign's contact lists")
    contact_commands = contacts.add_subparsers(dest="contacts_command", required=True)
    load = contact_commands.add_parser(
        "import",
        help="check a CSV row by row and store its good rows as a list (all or nothing)",
        description=_contacts_doc(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    load.add_argument("file", type=Path)
    load.add_argument("--campaign", required=True)
    load.add_argument("--list-id", help="default: the file's name")
    load.add_argument("--name", help="the list's name (default: the file's name)")
    load.add_argument("--region", default="GB", help="country of national numbers (GB)")
    load.add_argument("--rejects", type=Path, help="write the rejected rows here (CSV)")
    load.add_argument("--config", help="the controller's TOML config (default: $CCGW_CONFIG)")
    load.set_defaults(handler=_import_contacts)

    dnc = commands.add_parser("dnc", help="do-not-call lists")
    dnc_commands = dnc.add_subparsers(dest="dnc_command", required=True)
    register = dnc_commands.add_parser(
        "register", help="replace a register's screening (TPS, the national DNC) from a file"
    )
    register.add_argument("name", help="the register, as the rule set names it: tps, national")
    register.add_argument("file", type=Path, help="one E.164 number per line")
    register.add_argument("--config")
    register.set_defaults(handler=_replace_register)
    add = dnc_commands.add_parser("add", help="put numbers on the internal list (objections)")
    add.add_argument("numbers", nargs="+")
    add.add_argument("--reason", required=True)
    add.add_argument("--config")
    add.set_defaults(handler=_add_numbers)


def _contacts_doc() -> str:
    from ccgateway.importing import contacts_csv

    return contacts_csv.__doc__ or ""


def _store(config: str | None) -> OutboundStore:
    from ccgateway.persistence import open_database
    from ccgateway.persistence.outbound_store import SqlOutboundStore
    from ccgateway.settings import load_settings

    settings = load_settings(config)
    return SqlOutboundStore(open_database(settings.database_url))


def _import_contacts(args: argparse.Namespace) -> int:
    from ccgateway.importing.contacts_csv import parse_contacts

    store = _store(args.config)
    found = {c.id: c for c, _ in store.load_config()[1]}
    campaign = found.get(args.campaign)
    if campaign is None:
        print(f"no campaign {args.campaign!r}", file=sys.stderr)
        return 2
    list_id = args.list_id or args.file.stem.lower().replace(" ", "-")
    total = _count_rows(args.file)
    bar = ProgressBar("checking rows", total, sys.stderr)
    try:
        with args.file.open(encoding="utf-8-sig", newline="") as text:
            report = parse_contacts(text, list_id, campaign.purpose, args.region, bar.update)
        bar.done()
        if not report.contacts:
            print(f"nothing to import: {report.rejected_count} row(s) rejected", file=sys.stderr)
            _show_rejects(report.rejected, args.rejects)
            return 1
        contact_list = ContactList(
            list_id,
            campaign.id,
            args.name or args.file.name,
            time.time(),
            len(report.contacts),
            report.rejected_count,
            str(args.file),
        )
        started = time.monotonic()
        print(f"storing {len(report.contacts):,} contacts ...", file=sys.stderr)
        store.import_contacts(contact_list, report.contacts)
    except (DomainError, OSError, UnicodeDecodeError) as exc:
        print(f"import refused, nothing stored: {exc}", file=sys.stderr)
        return 1
    took = time.monotonic() - started
    print(
        f"list {list_id}: {len(report.contacts):,} contacts stored in {took:.1f} s, "
        f"{report.rejected_count:,} row(s) rejected"
    )
    _show_rejects(report.rejected, args.rejects)
    return 0


def _show_rejects(rejected: list[Rejected], path: Path | None) -> None:
    for item in rejected[:20]:
        print(f"  line {item.row}: {'; '.join(item.reasons)}", file=sys.stderr)
    if len(rejected) > 20:
        print(f"  ... and {len(rejected) - 20} more", file=sys.stderr)
    if path is not None:
        with path.open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["line", "number", "reasons"])
            for item in rejected:
                writer.writerow([item.row, item.number, "; ".join(item.reasons)])


def _replace_register(args: argparse.Namespace) -> int:
    try:
        numbers = _read_numbers(args.file)
        count = _store(args.config).replace_register(args.name, numbers, time.time())
    except (DomainError, OSError) as exc:
        print(f"register not replaced: {exc}", file=sys.stderr)
        return 1
    print(f"register {args.name}: {count:,} numbers, screened now")
    return 0


def _add_numbers(args: argparse.Namespace) -> int:
    try:
        numbers = [check_e164(n) for n in args.numbers]
        added = _store(args.config).suppress("internal", numbers, args.reason, time.time())
    except DomainError as exc:
        print(f"nothing added: {exc}", file=sys.stderr)
        return 1
    print(f"{added} number(s) added to the internal do-not-call list")
    return 0


def _read_numbers(path: Path) -> list[str]:
    numbers = []
    with path.open(encoding="utf-8-sig") as text:
        for line_number, line in enumerate(text, start=1):
            value = line.strip().split(",")[0].strip()
            if not value or value.lower() in ("number", "phone"):
                continue
            try:
                numbers.append(check_e164(value))
            except DomainError as exc:
                raise DomainError(f"line {line_number}: {exc}") from None
    return numbers


def _count_rows(path: Path) -> int:
    with path.open("rb") as data:
        return max(0, sum(1 for _ in data) - 1)


class ProgressBar:
    """A one-line progress bar on a terminal (plain lines when it is not one)."""

    def __init__(
        self, what: str, total: int, out: TextIO, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.what, self.total, self.out, self.now = what, max(1, total), out, now
        self.started = now()
        self.tty = out.isatty()
        self.shown = -1

    def update(self, rows: int) -> None:
        share = min(1.0, rows / self.total)
        width = 30
        filled = int(share * width)
        rate = rows / max(1e-6, self.now() - self.started)
        line = (
            f"{self.what}: [{'=' * filled}{' ' * (width - filled)}] {share:4.0%} "
            f"{rows:,}/{self.total:,} ({rate:,.0f} rows/s)"
        )
        if self.tty:
            self.out.write("\r" + line)
        elif int(share * 10) != self.shown:  # every 10 % on a log
            self.shown = int(share * 10)
            self.out.write(line + "\n")
        self.out.flush()

    def done(self) -> None:
        if self.tty:
            self.out.write("\n")
            self.out.flush()
