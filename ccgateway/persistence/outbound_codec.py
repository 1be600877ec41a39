"""The dialer's values as the JSON text the outbound store keeps: a campaign's settings, a
custom rule set, a contact's consents, a disposition's answers.

Plain keys (the domain's field names) and enum values as strings, so a row reads like the
API's JSON. Each record is a table of fields, each with its way to JSON and back: the same
table writes and reads, so a field cannot be written and forgotten on the way back. On load
every value is checked for its JSON type here and for its rules by the domain's
constructors: a row edited by hand, or corrupt, raises the domain's InvalidValue (never a
KeyError or a TypeError), and a key the table does not know is refused too. A key that is
missing takes the constructor's default, so a field added later reads old rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from typing import Any, TypeVar

from ccgateway.domain.calendar import Hours
from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.outbound.campaigns import (
    Amd,
    Blend,
    Campaign,
    DialMode,
    DialOutcome,
    Disposition,
    MachineAction,
    Retry,
)
from ccgateway.domain.outbound.contacts import Consent
from ccgateway.domain.outbound.rules import (
    AbandonWindow,
    Basis,
    LineConsent,
    Purpose,
    RuleSet,
)
from ccgateway.domain.outbound.scripts import Question, QuestionKind, Script
from ccgateway.domain.recording import RecordingMode, RecordingPolicy

E = TypeVar("E", bound=StrEnum)
Encode = Callable[[Any], Any]
Decode = Callable[[Any], Any]
Field = tuple[Encode, Decode]  # to JSON, from JSON


# --- public ----------------------------------------------------------------------------------


def campaign_to_json(campaign: Campaign) -> str:
    """Every field but the id (the row's key)."""
    return _dump(_encode_fields(CAMPAIGN_FIELDS, campaign))


def campaign_from_json(campaign_id: str, text: str) -> Campaign:
    with _corrupt(f"campaign {campaign_id}"):
        campaign: Campaign = _decode_fields(
            Campaign, CAMPAIGN_FIELDS, json.loads(text), id=campaign_id
        )
        return campaign


def rule_set_to_json(rules: RuleSet) -> str:
    """Every field but the id (the row's key)."""
    return _dump(_encode_fields(RULE_SET_FIELDS, rules))


def rule_set_from_json(rule_set_id: str, text: str) -> RuleSet:
    with _corrupt(f"rule set {rule_set_id}"):
        rules: RuleSet = _decode_fields(RuleSet, RULE_SET_FIELDS, json.loads(text), id=rule_set_id)
        return rules


def consents_to_json(consents: Mapping[Purpose, Consent]) -> str:
    return _dump(_CONSENTS[0](consents))


def consents_from_json(text: str) -> dict[Purpose, Consent]:
    with _corrupt("consents"):
        consents: dict[Purpose, Consent] = _CONSENTS[1](json.loads(text))
        return consents


def strings_to_json(values: Mapping[str, str]) -> str:
    """A contact's custom fields."""
    return _dump(dict(values))


def strings_from_json(text: str) -> dict[str, str]:
    with _corrupt("fields"):
        return {_str(k): _str(v) for k, v in _object(json.loads(text)).items()}


def counts_to_json(counts: Mapping[str, int]) -> str:
    """A contact's dial outcomes and their counts."""
    return _dump(dict(counts))


def counts_from_json(text: str) -> dict[str, int]:
    with _corrupt("outcome counts"):
        return {_str(k): _int(v) for k, v in _object(json.loads(text)).items()}


def zones_to_json(zones: tuple[str, ...]) -> str:
    return _dump(list(zones))


def zones_from_json(text: str) -> tuple[str, ...]:
    with _corrupt("time zones"):
        return tuple(_str(z) for z in _list(json.loads(text)))


def answers_to_json(answers: Mapping[str, str | float | bool]) -> str:
    return _dump(dict(answers))


def answers_from_json(text: str) -> dict[str, str | float | bool]:
    with _corrupt("answers"):
        return {_str(k): _answer(v) for k, v in _object(json.loads(text)).items()}


# --- JSON types, checked -----------------------------------------------------------------------


# One encoder, made once: json.dumps with options builds a new one for every call, and an
# import encodes three values per contact.
_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False)


def _dump(value: object) -> str:
    return _ENCODER.encode(value)


@contextmanager
def _corrupt(what: str) -> Iterator[None]:
    """Whatever is wrong with a stored value becomes the domain's InvalidValue."""
    try:
        yield
    except InvalidValue as exc:
        raise InvalidValue(f"stored {what}: {exc}") from exc
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # JSONDecodeError too
        raise InvalidValue(f"stored {what} is corrupt: {exc}") from exc


def _object(raw: object) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidValue(f"expected a JSON object, found {type(raw).__name__}")
    return raw


def _list(raw: object) -> list[Any]:
    if not isinstance(raw, list):
        raise InvalidValue(f"expected a JSON list, found {type(raw).__name__}")
    return raw


def _str(raw: object) -> str:
    if not isinstance(raw, str):
        raise InvalidValue(f"expected text, found {raw!r}")
    return raw


def _bool(raw: object) -> bool:
    if not isinstance(raw, bool):
        raise InvalidValue(f"expected true or false, found {raw!r}")
    return raw


def _int(raw: object) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise InvalidValue(f"expected a whole number, found {raw!r}")
    return raw


def _float(raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise InvalidValue(f"expected a number, found {raw!r}")
    return float(raw)


def _answer(raw: object) -> str | float | bool:
    if isinstance(raw, (str, bool)):
        return raw
    return _float(raw)


def _same(value: Any) -> Any:
    return value


def _optional(field: Field) -> Field:
    encode, decode = field

    def to_json(value: Any) -> Any:
        return None if value is None else encode(value)

    def from_json(raw: Any) -> Any:
        return None if raw is None else decode(raw)

    return to_json, from_json


def _enum(kind: type[E]) -> Field:
    def from_json(raw: Any) -> E:
        text = _str(raw)
        try:
            return kind(text)
        except ValueError:
            known = ", ".join(m.value for m in kind)
            raise InvalidValue(f"{text!r} is not one of {known}") from None

    return (lambda value: value.value), from_json


def _tuple(field: Field) -> Field:
    encode, decode = field
    return (
        lambda values: [encode(v) for v in values],
        lambda raw: tuple(decode(v) for v in _list(raw)),
    )


def _frozenset_of(kind: type[E]) -> Field:
    """A set of enum members, as a sorted list of their values."""
    decode = _enum(kind)[1]
    return (
        lambda values: sorted(v.value for v in values),
        lambda raw: frozenset(decode(v) for v in _list(raw)),
    )


def _mapping(key: Field, value: Field) -> Field:
    return (
        lambda mapping: {key[0](k): value[0](v) for k, v in mapping.items()},
        lambda raw: {key[1](k): value[1](v) for k, v in _object(raw).items()},
    )


def _encode_fields(fields: Mapping[str, Field], value: object) -> dict[str, Any]:
    return {name: field[0](getattr(value, name)) for name, field in fields.items()}


def _decode_fields(kind: type[Any], fields: Mapping[str, Field], raw: Any, **given: Any) -> Any:
    """`kind` built from the fields found (missing ones take its defaults) and `given`."""
    found = _object(raw)
    unknown = sorted(set(found) - set(fields))
    if unknown:
        raise InvalidValue(f"{kind.__name__} has no field {', '.join(unknown)}")
    return kind(**{name: fields[name][1](v) for name, v in found.items()}, **given)


def _record(kind: type[Any], fields: Mapping[str, Field]) -> Field:
    """A dataclass as a JSON object of its fields: `fields` names every one it stores."""
    return (
        lambda value: _encode_fields(fields, value),
        lambda raw: _decode_fields(kind, fields, raw),
    )


STR: Field = (_same, _str)
BOOL: Field = (_same, _bool)
INT: Field = (_same, _int)
FLOAT: Field = (_same, _float)
OPT_STR = _optional(STR)
OPT_INT = _optional(INT)
OPT_FLOAT = _optional(FLOAT)


# --- the records -------------------------------------------------------------------------------

HOURS = _record(
    Hours,
    {
        "timezone": STR,
        "weekly": _mapping(STR, _tuple(STR)),
        "holidays": _tuple(STR),
    },
)

QUESTION = _record(
    Question,
    {
        "id": STR,
        "text": STR,
        "kind": _enum(QuestionKind),
        "options": _tuple(STR),
        "minimum": OPT_FLOAT,
        "maximum": OPT_FLOAT,
        "required": BOOL,
    },
)

SCRIPT = _record(Script, {"text": STR, "questions": _tuple(QUESTION)})

AMD = _record(
    Amd,
    {
        "enabled": BOOL,
        "machine_action": _enum(MachineAction),
        "machine_message": OPT_STR,
        "false_positive_share": FLOAT,
    },
)

RETRY = _record(Retry, {"after_s": FLOAT, "times": INT})

DISPOSITION = _record(
    Disposition,
    {
        "code": STR,
        "label": STR,
        "final": BOOL,
        "retry_after_s": OPT_FLOAT,
        "do_not_call": BOOL,
        "callback": BOOL,
    },
)

BLEND = _record(
    Blend,
    {
        "inbound_queue_ids": _tuple(STR),
        "min_reserve": INT,
        "max_reserve": INT,
        "inbound_wait_goal_s": FLOAT,
    },
)

RECORDING = _record(
    RecordingPolicy,
    {
        "mode": _enum(RecordingMode),
        "share": FLOAT,
        "notice": OPT_STR,
        "refuse_key": OPT_STR,
        "stereo": BOOL,
    },
)

# The campaign's and the rule set's fields but their ids: the row's key.
CAMPAIGN_FIELDS: Mapping[str, Field] = {
    "name": STR,
    "purpose": _enum(Purpose),
    "rule_set_id": STR,
    "mode": _enum(DialMode),
    "queue_id": STR,
    "caller_id": STR,
    "abandon_message": STR,
    "caller_name": STR,
    "ring_s": FLOAT,
    "abandon_target": OPT_FLOAT,
    "amd": AMD,
    "retries": _mapping(_enum(DialOutcome), RETRY),
    "dispositions": _tuple(DISPOSITION),
    "script": SCRIPT,
    "hours": _optional(HOURS),
    "starts_at": OPT_FLOAT,
    "ends_at": OPT_FLOAT,
    "max_lines": OPT_INT,
    "live_priority": INT,
    "preview_timeout_s": FLOAT,
    "blend": _optional(BLEND),
    "recording": _optional(RECORDING),
    "pbx": STR,
}

LINE_CONSENT = _record(LineConsent, {"mobile": _frozenset_of(Basis), "fixed": _frozenset_of(Basis)})

RULE_SET_FIELDS: Mapping[str, Field] = {
    "name": STR,
    "abandon_limit": OPT_FLOAT,
    "abandon_window": _enum(AbandonWindow),
    "count_amd_false_positives": BOOL,
    "ledger_timezone": STR,
    "grace_s": FLOAT,
    "grace_counts_amd": BOOL,
    "min_ring_s": FLOAT,
    "max_ring_s": OPT_FLOAT,
    "calling_hours": _optional(HOURS),
    "attempts_per_day": OPT_INT,
    "attempts_per_week": OPT_INT,
    "attempts_per_campaign": OPT_INT,
    "lockout_after_abandon_s": OPT_FLOAT,
    "consent": _mapping(_enum(Purpose), LINE_CONSENT),
    "consent_proof_required": BOOL,
    "business_presumed_consent": BOOL,
    "registers": _mapping(STR, INT),
    "caller_id_required": BOOL,
    "recording_needs_consent": BOOL,
    "description": STR,
}

CONSENT = _record(Consent, {"basis": _enum(Basis), "given_at": OPT_FLOAT, "source": STR})
_CONSENTS = _mapping(_enum(Purpose), CONSENT)
