"""`ccgateway contacts import` and `ccgateway dnc ...`: lists into the database from a shell.

A running controller is the one writer of its database, and it holds campaigns' contacts in
memory: a number put on the do-not-call list behind its back could still be dialled from a
list it has loaded. So while a controller answers at the config's API address (or
`--url`), the change is sent to it, as the REST API does it (`POST /v1/dnc`, `PUT
/v1/dnc/registers/...`, `POST /v1/campaigns/.../lists`) with the admin key (`--key-file`,
else the config's); a controller that is there but refuses the key, or an address that does
not answer at all, writes nothing. Only when nothing listens there (connection refused) is
the database (`database_url`) written directly, in one transaction each, as the controller
would load it at its next start.

In a pair (`ha.mode = "pair"`) the active controller may run on another machine: when
nothing listens at the address, the lease says which controller is active and the address
it advertises, and the change is sent there. Only when no controller holds a live lease is
the database written directly, each transaction fenced (`ToolFence`): it commits only while
still no controller holds the lease, and one taking over afterwards loads what was written.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ccgateway.domain.errors import DomainError
from ccgateway.domain.outbound.contacts import ContactList, check_e164
from ccgateway.importing.contacts_csv import Rejected
from ccgateway.persistence.lease_store import StaleEpoch
from ccgateway.ports import OutboundStore

if TYPE_CHECKING:
    from sqlalchemy import Engine
from ccgateway.settings import Settings, load_settings

MAX_CSV_BYTES = 50 * 10**6  # what the API takes in one list (api/routes/contact_lists.py)
MAX_NUMBERS_AT_ONCE = 100_000  # numbers per POST /v1/dnc
PROBE_WAIT_S = 5.0  # for a controller's first answer
REGISTER_WAIT_S = 3600.0  # tens of millions of numbers are checked and written in the request


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
    add_controller_options(load)
    load.set_defaults(handler=_import_contacts)

    dnc = commands.add_parser("dnc", help="do-not-call lists")
    dnc_commands = dnc.add_subparsers(dest="dnc_command", required=True)
    register = dnc_commands.add_parser(
        "register", help="replace a register's screening (TPS, the national DNC) from a file"
    )
    register.add_argument("name", help="the register, as the rule set names it: tps, national")
    register.add_argument("file", type=Path, help="one E.164 number per line")
    add_controller_options(register)
    register.set_defaults(handler=_replace_register)
    add = dnc_commands.add_parser("add", help="put numbers on the internal list (objections)")
    add.add_argument("numbers", nargs="+")
    add.add_argument("--reason", required=True)
    add_controller_options(add)
    add.set_defaults(handler=_add_numbers)


def add_controller_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="the controller's TOML config (default: $CCGW_CONFIG)")
    parser.add_argument(
        "--url", help="the running controller's API (default: the config's api.host and port)"
    )
    parser.add_argument(
        "--key-file", type=Path, help="its admin key (default: the config's, or CCGW_ADMIN_KEY)"
    )


def _contacts_doc() -> str:
    from ccgateway.importing import contacts_csv

    return contacts_csv.__doc__ or ""


def _store(settings: Settings) -> OutboundStore:
    from ccgateway.persistence.outbound_store import SqlOutboundStore

    return SqlOutboundStore(tool_database(settings))


def tool_database(settings: Settings) -> Engine:
    """The database for a command that writes it itself, no controller being active; in a
    pair each of its writes is fenced (the module's docstring)."""
    from ccgateway.persistence import open_database
    from ccgateway.persistence.lease_store import SqlLeaseStore, ToolFence

    engine = open_database(settings.database_url)
    if settings.ha.mode == "pair":
        SqlLeaseStore(engine)  # the lease's row, for the fence to hold
        ToolFence(settings.ha.lease_s).install(engine)
    return engine


def _import_contacts(args: argparse.Namespace) -> int:
    list_id = args.list_id or args.file.stem.lower().replace(" ", "-")
    try:
        settings = load_settings(args.config)
        controller = running_controller(settings, args.url, args.key_file)
        if controller is not None:
            return _import_through(controller, args, list_id)
    except (Refused, OSError) as exc:
        print(f"import refused, nothing stored: {exc}", file=sys.stderr)
        return 1
    return _import_into(_store(settings), args, list_id)


def _import_through(controller: Controller, args: argparse.Namespace, list_id: str) -> int:
    """The file sent whole to the running controller, which checks and stores it."""
    size = args.file.stat().st_size
    if size > MAX_CSV_BYTES:
        raise Refused(
            f"{args.file} is {size / 1e6:.0f} MB, over the API's {MAX_CSV_BYTES // 10**6} MB: "
            "split it, or import it while the controller is stopped"
        )
    query = urllib.parse.urlencode(
        {
            "list_id": list_id,
            "name": args.name or args.file.name,
            "region": args.region,
            "source": str(args.file)[-200:],
        }
    )
    campaign = urllib.parse.quote(args.campaign, safe="")
    print(f"sending {args.file} to the controller at {controller.url} ...", file=sys.stderr)
    started = time.monotonic()
    report = controller.send(
        "POST", f"/v1/campaigns/{campaign}/lists?{query}", args.file.read_bytes(), "text/csv"
    )
    took = time.monotonic() - started
    print(
        f"list {list_id}: {report['imported']:,} contacts stored in {took:.1f} s, "
        f"{report['rejected_count']:,} row(s) rejected"
    )
    rejected = [Rejected(r["line"], tuple(r["reasons"]), r["number"]) for r in report["rejected"]]
    _show_rejects(rejected, args.rejects)
    return 0


def _import_into(store: OutboundStore, args: argparse.Namespace, list_id: str) -> int:
    """No controller runs: the file checked here and stored in the database directly."""
    from ccgateway.importing.contacts_csv import parse_contacts

    found = {c.id: c for c, _ in store.load_config()[1]}
    campaign = found.get(args.campaign)
    if campaign is None:
        print(f"no campaign {args.campaign!r}", file=sys.stderr)
        return 2
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
    except (DomainError, OSError, UnicodeDecodeError, StaleEpoch) as exc:
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
        settings = load_settings(args.config)
        controller = running_controller(settings, args.url, args.key_file)
        if controller is None:
            count = _store(settings).replace_register(args.name, numbers, time.time())
        else:
            register = urllib.parse.quote(args.name, safe="")
            body = "\n".join(numbers).encode()
            replaced = controller.send(
                "PUT", f"/v1/dnc/registers/{register}", body, "text/plain", REGISTER_WAIT_S
            )
            count = int(replaced["numbers"])
    except (DomainError, OSError, Refused, StaleEpoch) as exc:
        print(f"register not replaced: {exc}", file=sys.stderr)
        return 1
    print(f"register {args.name}: {count:,} numbers, screened now{_by(controller)}")
    return 0


def _add_numbers(args: argparse.Namespace) -> int:
    try:
        numbers = list(dict.fromkeys(check_e164(n) for n in args.numbers))
        settings = load_settings(args.config)
        controller = running_controller(settings, args.url, args.key_file)
        if controller is None:
            added = _store(settings).suppress("internal", numbers, args.reason, time.time())
        else:
            added = 0
            for start in range(0, len(numbers), MAX_NUMBERS_AT_ONCE):
                part = numbers[start : start + MAX_NUMBERS_AT_ONCE]
                body = json.dumps({"numbers": part, "reason": args.reason}).encode()
                added += int(controller.send("POST", "/v1/dnc", body, "application/json")["added"])
    except (DomainError, Refused, StaleEpoch) as exc:
        print(f"nothing added: {exc}", file=sys.stderr)
        return 1
    print(f"{added} number(s) added to the internal do-not-call list{_by(controller)}")
    return 0


def _by(controller: Controller | None) -> str:
    if controller is None:
        return " (no controller running: written to the database)"
    return f" (by the controller at {controller.url})"


# --- the running controller ----------------------------------------------------------------


class Refused(Exception):
    """Nothing was written; the message says why."""


class Controller:
    """A running controller's REST API, as the administrator."""

    def __init__(self, url: str, key: str) -> None:
        self.url, self._key = url.rstrip("/"), key

    def send(
        self, method: str, path: str, body: bytes, content_type: str, wait_s: float = 60.0
    ) -> Any:
        """The answer's JSON; a refusal (4xx, 5xx) or no answer raises Refused."""
        request = urllib.request.Request(
            self.url + path,
            data=body,
            method=method,
            headers={"Authorization": f"Bearer {self._key}", "Content-Type": content_type},
        )
        try:
            with urllib.request.urlopen(request, timeout=wait_s) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise Refused(f"the controller at {self.url} refused it: {_message(exc)}") from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise Refused(f"the controller at {self.url} did not answer: {reason}") from exc


def running_controller(
    settings: Settings, url: str | None, key_file: Path | None
) -> Controller | None:
    """The controller that answers at `url` (default: the settings' API address), or None
    if nothing listens there (the connection is refused): then no controller holds the
    database through this config. An address that does not answer at all is no proof that
    none runs: Refused."""
    url = (url or _api_url(settings.api.host, settings.api.port)).rstrip("/")
    try:
        with urllib.request.urlopen(f"{url}/v1/health", timeout=PROBE_WAIT_S):
            pass
    except urllib.error.HTTPError:
        pass  # it answered (401 without a key): a controller is there
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ConnectionRefusedError):
            return _pair_active(settings, key_file)
        raise Refused(
            f"{url} did not answer ({exc.reason}); a controller may hold the database"
        ) from exc
    except OSError as exc:  # a timeout, a reset
        raise Refused(f"{url} did not answer ({exc}); a controller may hold the database") from exc
    return _as_admin(url, settings, key_file)


def _pair_active(settings: Settings, key_file: Path | None) -> Controller | None:
    """Nothing listens at this machine's address; in a pair, the active controller may run
    on another: the lease names it and its advertised address. None: no controller is
    active (the database may be written, fenced: `tool_database`)."""
    if settings.ha.mode != "pair":
        return None
    from sqlalchemy.exc import SQLAlchemyError

    from ccgateway.persistence.lease_store import SqlLeaseStore, lease_engine

    engine = lease_engine(settings.database_url, settings.ha.lease_s)
    try:
        holder = SqlLeaseStore(engine).holder()
    except SQLAlchemyError as exc:
        raise Refused(f"the pair's lease could not be read: {exc}") from exc
    finally:
        engine.dispose()
    if holder is None or not holder.live:
        return None
    if not holder.url:
        raise Refused(
            f"{holder.node} is the pair's active controller and advertises no API address "
            "(its ha.advertise_url): give it with --url"
        )
    return _as_admin(holder.url.rstrip("/"), settings, key_file)


def _as_admin(url: str, settings: Settings, key_file: Path | None) -> Controller:
    try:
        key = key_file.read_text().strip() if key_file else settings.resolved_admin_key()
    except (OSError, ValueError) as exc:
        raise Refused(
            f"a controller runs at {url} and holds the database; its admin key is needed "
            f"(--key-file, CCGW_ADMIN_KEY or api.admin_key_file): {exc}"
        ) from exc
    return Controller(url, key)


def _api_url(host: str, port: int) -> str:
    """Where a client on this machine reaches an API bound to `host`."""
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _message(exc: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(exc.read() or b"null")
    except ValueError:
        body = None
    if isinstance(body, dict) and "message" in body:
        return f"{body['message']} ({exc.code} {body.get('error_id', '')})".replace(" )", ")")
    return f"{exc.code} {exc.reason}"


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
