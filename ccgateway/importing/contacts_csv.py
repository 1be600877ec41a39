"""A contact list from CSV: every row checked, the good ones as domain contacts, the others
reported with their reasons. Nothing is stored here; the caller stores all or nothing.

Columns (a header row, names case-insensitive):
    number             required (also "phone"): E.164 (+44...), or national for `region`
    id                 the contact's id in the campaign (default: <list id>-<row>)
    name, priority     priority -100..100, higher first
    region             ISO country for a national number (default: the import's region)
    timezone           IANA zone(s) overriding the number's, several joined by "|"
    business           yes/no (a business line: presumed consent in Germany)
    consent            the lawful basis for the campaign's purpose: express_written,
                       express, contract, legitimate_interest; consent_at (ISO date and
                       time, or epoch seconds) and consent_source (the proof) with it
    consent_<purpose>  the same for another purpose (marketing, service, collections,
                       research), with consent_<purpose>_at and consent_<purpose>_source
    anything else      a custom field for the agent's screen and script (a-z, 0-9, _)

A number is parsed by `phonenumbers` (Google's libphonenumber): it must be a valid number;
its line type (mobile or fixed; unknown is treated as a mobile), country and the time zones
it may be in come from it. A number that could be in several zones is kept with all of
them: the calling window must hold in each.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import phonenumbers
from phonenumbers import PhoneNumberType, timezone

from ccgateway.domain.calendar import zone
from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.model import ID_PATTERN
from ccgateway.domain.outbound.contacts import FIELD_NAME, Consent, Contact
from ccgateway.domain.outbound.rules import Basis, LineType, Purpose

MAX_ROWS = 1_000_000
MAX_REPORTED = 1000  # rejected rows listed one by one; beyond, only counted
PROGRESS_EVERY = 1000
LINE_TYPES = {
    PhoneNumberType.MOBILE: LineType.MOBILE,
    PhoneNumberType.FIXED_LINE: LineType.FIXED,
}
TRUE, FALSE = {"1", "yes", "y", "true", "t"}, {"", "0", "no", "n", "false", "f"}
KNOWN = {"number", "phone", "id", "name", "priority", "region", "timezone", "business"}
CLOCK_SKEW_S = 300.0  # a consent dated this far ahead of our clock is still taken as given


@dataclass(frozen=True, slots=True)
class Rejected:
    row: int  # the file's line number (the header is line 1)
    reasons: tuple[str, ...]
    number: str = ""


@dataclass
class ImportReport:
    list_id: str
    rows: int = 0
    contacts: list[Contact] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    rejected_count: int = 0

    def reject(self, rejected: Rejected) -> None:
        self.rejected_count += 1
        if len(self.rejected) < MAX_REPORTED:
            self.rejected.append(rejected)


def parse_contacts(
    text: Iterable[str],
    list_id: str,
    purpose: Purpose,
    region: str = "GB",
    progress: Callable[[int], None] | None = None,
    now: float | None = None,
) -> ImportReport:
    """Check every row of a CSV (an iterable of lines, the header first); `now` (default:
    the wall clock) dates what may not lie in the future, such as a consent. A file the
    csv module cannot read (a cell over its 131,072 characters) raises InvalidValue with
    its line."""
    if not ID_PATTERN.fullmatch(list_id):
        raise InvalidValue(f"list id {list_id!r} must be 1-64 of a-z, 0-9, '_', '.', '-'")
    region = _region(region)
    latest = (time.time() if now is None else now) + CLOCK_SKEW_S
    reader = _rows(csv.reader(_lines(text)))
    header = next(reader, None)
    if header is None:
        raise InvalidValue("the file is empty: it needs a header row with a number column")
    columns = _columns(header)
    report = ImportReport(list_id)
    seen_ids: dict[str, int] = {}
    seen_numbers: dict[str, int] = {}
    for index, cells in enumerate(reader, start=2):
        if report.rows >= MAX_ROWS:
            raise InvalidValue(f"a list has at most {MAX_ROWS:,} rows")
        if not any(cell.strip() for cell in cells):
            continue  # a blank line
        report.rows += 1
        if progress is not None and report.rows % PROGRESS_EVERY == 0:
            progress(report.rows)
        row = {name: (cells[i].strip() if i < len(cells) else "") for i, name in columns.items()}
        if len(cells) > len(header):
            report.reject(Rejected(index, ("more cells than the header has columns",)))
            continue
        contact, reasons = _contact(row, index, list_id, purpose, region, latest)
        if contact is not None:
            if contact.id in seen_ids:
                reasons.append(f"id {contact.id} is already on line {seen_ids[contact.id]}")
            elif contact.number in seen_numbers:
                reasons.append(f"number already on line {seen_numbers[contact.number]}")
        if reasons or contact is None:
            report.reject(Rejected(index, tuple(reasons), row.get("number", "")))
            continue
        seen_ids[contact.id] = seen_numbers[contact.number] = index
        report.contacts.append(contact)
    if progress is not None:
        progress(report.rows)
    return report


def _rows(reader: Iterator[list[str]]) -> Iterator[list[str]]:
    """The reader's rows; its errors (a cell past `csv.field_size_limit()`, 131,072
    characters) as InvalidValue naming the line, for the whole file is refused."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = getattr(reader, "line_num", 0)
            limit = csv.field_size_limit()
            if "field larger than field limit" in str(exc):
                raise InvalidValue(
                    f"line {line}: a cell is longer than {limit:,} characters"
                ) from None
            raise InvalidValue(f"line {line}: not CSV: {exc}") from None
        yield row


def _lines(text: Iterable[str]) -> Iterator[str]:
    for number, line in enumerate(text):
        if number == 0:
            line = line.lstrip("\ufeff")  # a byte-order mark from a spreadsheet
        if "\x00" in line:
            raise InvalidValue("the file holds NUL bytes: not a CSV text file")
        yield line


def _columns(header: list[str]) -> dict[int, str]:
    columns: dict[int, str] = {}
    for i, raw in enumerate(header):
        name = re.sub(r"[\s-]+", "_", raw.strip().lower())
        if not name:
            raise InvalidValue(f"column {i + 1} has no name")
        if name in columns.values():
            raise InvalidValue(f"column {name!r} appears twice")
        if name not in KNOWN and not name.startswith("consent") and not FIELD_NAME.fullmatch(name):
            raise InvalidValue(f"column {raw!r}: a custom field is a-z, 0-9, '_', 1-40 long")
        columns[i] = "number" if name == "phone" else name
    if "number" not in columns.values():
        raise InvalidValue("the header has no number (or phone) column")
    for name in columns.values():
        if name.startswith("consent") and _consent_column(name) is None:
            raise InvalidValue(f"column {name!r}: consent, consent_<purpose>[_at|_source]")
    return columns


def _consent_column(name: str) -> tuple[Purpose | None, str] | None:
    """consent[_<purpose>][_at|_source] -> (purpose or None for the campaign's, part)."""
    found = re.fullmatch(r"consent(?:_([a-z]+))??(?:_(at|source))?", name)
    if found is None:
        return None
    purpose_text, part = found.group(1), found.group(2) or "basis"
    if purpose_text is None:
        return None, part
    try:
        return Purpose(purpose_text), part
    except ValueError:
        return None


def _contact(
    row: dict[str, str], line: int, list_id: str, purpose: Purpose, region: str, latest: float
) -> tuple[Contact | None, list[str]]:
    reasons: list[str] = []
    number, line_type, country, zones = _number(row, region, reasons)
    contact_id = row.get("id") or f"{list_id}-{line}"
    if not ID_PATTERN.fullmatch(contact_id):
        reasons.append(f"id {contact_id!r} must be 1-64 of a-z, 0-9, '_', '.', '-'")
    priority = _priority(row.get("priority", ""), reasons)
    business = _yes_no(row.get("business", ""), "business", reasons)
    consents = _consents(row, purpose, latest, reasons)
    fields = {k: v for k, v in row.items() if k not in KNOWN and not k.startswith("consent") and v}
    if reasons or number is None:
        return None, reasons
    try:
        contact = Contact(
            id=contact_id,
            list_id=list_id,
            number=number,
            time_zones=zones,
            line_type=line_type,
            region=country,
            name=row.get("name", ""),
            business=business,
            consents=consents,
            fields=fields,
            priority=priority,
        )
    except InvalidValue as exc:
        return None, [str(exc)]
    return contact, reasons


def _number(
    row: dict[str, str], region: str, reasons: list[str]
) -> tuple[str | None, LineType, str, tuple[str, ...]]:
    raw = row.get("number", "")
    if not raw:
        reasons.append("no number")
        return None, LineType.UNKNOWN, "", ()
    try:
        local_region = _region(row["region"]) if row.get("region") else region
    except InvalidValue as exc:
        reasons.append(str(exc))
        return None, LineType.UNKNOWN, "", ()
    try:
        parsed = phonenumbers.parse(raw, local_region)
    except phonenumbers.NumberParseException as exc:
        reasons.append(f"number {raw!r} cannot be read: {exc}")
        return None, LineType.UNKNOWN, "", ()
    if not phonenumbers.is_valid_number(parsed):
        reasons.append(f"number {raw!r} is not a valid number")
        return None, LineType.UNKNOWN, "", ()
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    line_type = LINE_TYPES.get(phonenumbers.number_type(parsed), LineType.UNKNOWN)
    country = phonenumbers.region_code_for_number(parsed) or ""
    if row.get("timezone"):
        zones = tuple(z.strip() for z in row["timezone"].split("|") if z.strip())
        for name in zones:
            try:
                zone(name)
            except InvalidValue as exc:
                reasons.append(str(exc))
    else:
        zones = tuple(z for z in timezone.time_zones_for_number(parsed) if z != "Etc/Unknown")
        if not zones:
            reasons.append(f"no time zone is known for {e164}: give a timezone column")
    return e164, line_type, country, zones


def _region(text: str) -> str:
    region = text.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidValue(f"region {text!r} is not a country code phonenumbers knows")
    return region


def _priority(text: str, reasons: list[str]) -> int:
    if not text:
        return 0
    if not re.fullmatch(r"-?[0-9]{1,3}", text) or not -100 <= int(text) <= 100:
        reasons.append(f"priority {text!r} must be a whole number from -100 to 100")
        return 0
    return int(text)


def _yes_no(text: str, what: str, reasons: list[str]) -> bool:
    value = text.lower()
    if value in TRUE:
        return True
    if value not in FALSE:
        reasons.append(f"{what} {text!r} must be yes or no")
    return False


def _consents(
    row: dict[str, str], purpose: Purpose, latest: float, reasons: list[str]
) -> dict[Purpose, Consent]:
    parts: dict[Purpose, dict[str, str]] = {}
    for name, value in row.items():
        found = _consent_column(name) if name.startswith("consent") else None
        if found is None or not value:
            continue
        which, part = found
        parts.setdefault(which or purpose, {})[part] = value
    consents = {}
    for which, given in parts.items():
        if "basis" not in given:
            reasons.append(f"consent for {which.value}: the basis column is empty")
            continue
        try:
            basis = Basis(given["basis"].strip().lower())
        except ValueError:
            names = ", ".join(b.value for b in Basis)
            reasons.append(f"consent {given['basis']!r} for {which.value} is not one of {names}")
            continue
        at = _moment(given.get("at", ""), f"consent date for {which.value}", latest, reasons)
        try:
            consents[which] = Consent(basis, at, given.get("source", ""))
        except InvalidValue as exc:
            reasons.append(str(exc))
    return consents


def _moment(text: str, what: str, latest: float, reasons: list[str]) -> float | None:
    """A past moment: from 1970 (epoch 0) to `latest`."""
    if not text:
        return None
    if re.fullmatch(r"[0-9]{9,11}(\.[0-9]+)?", text):
        moment = float(text)
    else:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            reasons.append(f"{what} {text!r} must be an ISO date (2026-03-01) or epoch seconds")
            return None
        moment = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    if moment > latest:
        reasons.append(f"{what} {text!r} is in the future")
        return None
    if moment < 0:
        reasons.append(f"{what} {text!r} is before 1970")
        return None
    return moment


def csv_lines(data: bytes) -> io.StringIO:
    """An uploaded file's bytes as lines of text (UTF-8, a spreadsheet's BOM allowed)."""
    try:
        return io.StringIO(data.decode("utf-8-sig"), newline="")
    except UnicodeDecodeError as exc:
        raise InvalidValue(f"the file is not UTF-8 text (byte {exc.start})") from None
