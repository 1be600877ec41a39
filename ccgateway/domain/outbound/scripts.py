"""A campaign's script: the questions an agent asks, the answers stored per call, and their
summary per campaign (the survey use case).

Answers are checked against their question when the agent submits them, so a summary never
meets a value it cannot count: a choice is one of its options, a number is within its
bounds, a scale is an integer on it, text is short plain text.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from ccgateway.domain.errors import InvalidValue

QUESTION_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
TEXT = re.compile(r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]{0,1000}$")
BODY = re.compile(r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]{0,20000}$")
MAX_QUESTIONS = 50
MAX_OPTIONS = 30
TEXT_SAMPLES = 5  # the latest free-text answers kept in a summary


class QuestionKind(StrEnum):
    CHOICE = "choice"  # one of `options`
    YES_NO = "yes_no"
    NUMBER = "number"  # between `minimum` and `maximum`
    SCALE = "scale"  # an integer from `minimum` to `maximum` (1-5, 0-10)
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    text: str
    kind: QuestionKind
    options: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    required: bool = False

    def __post_init__(self) -> None:
        if not QUESTION_ID.fullmatch(self.id):
            raise InvalidValue(f"question id {self.id!r} must be 1-40 of a-z, 0-9, '_'")
        if not 1 <= len(self.text) <= 500 or not TEXT.fullmatch(self.text):
            raise InvalidValue(f"question {self.id}: its text is 1-500 characters")
        if self.kind is QuestionKind.CHOICE:
            if not 2 <= len(self.options) <= MAX_OPTIONS or len(set(self.options)) != len(
                self.options
            ):
                raise InvalidValue(f"question {self.id}: 2-{MAX_OPTIONS} distinct options")
            for option in self.options:
                if not 1 <= len(option) <= 100 or not TEXT.fullmatch(option):
                    raise InvalidValue(f"question {self.id}: options are 1-100 characters")
        elif self.options:
            raise InvalidValue(f"question {self.id}: only a choice has options")
        if self.kind in (QuestionKind.NUMBER, QuestionKind.SCALE):
            low, high = self.minimum, self.maximum
            if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
                raise InvalidValue(f"question {self.id}: give a minimum and a maximum")
            if low >= high:
                raise InvalidValue(f"question {self.id}: the minimum is below the maximum")
            if self.kind is QuestionKind.SCALE and (
                low != int(low) or high != int(high) or high - low > 100
            ):
                raise InvalidValue(f"question {self.id}: a scale runs between integers, <= 100")
        elif self.minimum is not None or self.maximum is not None:
            raise InvalidValue(f"question {self.id}: only numbers and scales have bounds")

    def check(self, value: object) -> str | float | bool:
        """The answer as stored, or InvalidValue saying what is wrong with it."""
        where = f"answer to {self.id}"
        if self.kind is QuestionKind.CHOICE:
            if value not in self.options:
                raise InvalidValue(f"{where} must be one of {', '.join(self.options)}")
            return str(value)
        if self.kind is QuestionKind.YES_NO:
            if not isinstance(value, bool):
                raise InvalidValue(f"{where} must be true or false")
            return value
        if self.kind is QuestionKind.TEXT:
            if not isinstance(value, str) or not TEXT.fullmatch(value):
                raise InvalidValue(f"{where} must be text of at most 1000 characters")
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidValue(f"{where} must be a number")
        try:
            number = float(value)
        except OverflowError:  # an integer too large for a float: out of any bounds
            raise InvalidValue(
                f"{where} must be between {self.minimum:g} and {self.maximum:g}"
            ) from None
        assert self.minimum is not None and self.maximum is not None
        if not (math.isfinite(number) and self.minimum <= number <= self.maximum):
            raise InvalidValue(f"{where} must be between {self.minimum:g} and {self.maximum:g}")
        if self.kind is QuestionKind.SCALE and number != int(number):
            raise InvalidValue(f"{where} must be a whole number on the scale")
        return number


@dataclass(frozen=True, slots=True)
class Script:
    """What the agent reads (`text`, with {field} placeholders for the contact's fields) and
    asks."""

    text: str = ""
    questions: tuple[Question, ...] = ()

    def __post_init__(self) -> None:
        if not BODY.fullmatch(self.text):
            raise InvalidValue("a script's text is at most 20,000 characters, no control codes")
        if len(self.questions) > MAX_QUESTIONS:
            raise InvalidValue(f"a script has at most {MAX_QUESTIONS} questions")
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise InvalidValue("question ids must be distinct")

    def check_answers(self, answers: Mapping[str, object]) -> Mapping[str, str | float | bool]:
        known = {q.id: q for q in self.questions}
        unknown = sorted(set(answers) - set(known))
        if unknown:
            raise InvalidValue(f"the script has no question {', '.join(unknown)}")
        missing = [q.id for q in self.questions if q.required and q.id not in answers]
        if missing:
            raise InvalidValue(f"required question(s) not answered: {', '.join(missing)}")
        return MappingProxyType({k: known[k].check(v) for k, v in answers.items()})


@dataclass
class QuestionSummary:
    question: Question
    answered: int = 0
    counts: Counter[str] = field(default_factory=Counter)  # choices, yes/no, scale points
    total: float = 0.0
    lowest: float | None = None
    highest: float | None = None
    latest_text: list[str] = field(default_factory=list)

    def add(self, value: str | float | bool) -> None:
        self.answered += 1
        kind = self.question.kind
        if kind is QuestionKind.TEXT:
            self.latest_text = [*self.latest_text, str(value)][-TEXT_SAMPLES:]
            return
        if kind is QuestionKind.YES_NO:
            self.counts["yes" if value else "no"] += 1
            return
        if kind is QuestionKind.CHOICE:
            self.counts[str(value)] += 1
            return
        number = float(value)
        self.total += number
        self.lowest = number if self.lowest is None else min(self.lowest, number)
        self.highest = number if self.highest is None else max(self.highest, number)
        if kind is QuestionKind.SCALE:
            self.counts[str(int(number))] += 1

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "question_id": self.question.id,
            "kind": self.question.kind.value,
            "answered": self.answered,
        }
        if self.question.kind is QuestionKind.TEXT:
            out["latest"] = list(self.latest_text)
            return out
        if self.question.kind in (QuestionKind.NUMBER, QuestionKind.SCALE):
            out["mean"] = round(self.total / self.answered, 4) if self.answered else None
            out["min"], out["max"] = self.lowest, self.highest
        if self.question.kind is not QuestionKind.NUMBER:
            options: Iterable[str]
            if self.question.kind is QuestionKind.CHOICE:
                options = self.question.options
            elif self.question.kind is QuestionKind.YES_NO:
                options = ("yes", "no")
            else:
                assert self.question.minimum is not None and self.question.maximum is not None
                options = [
                    str(p)
                    for p in range(int(self.question.minimum), int(self.question.maximum) + 1)
                ]
            out["counts"] = {option: self.counts.get(option, 0) for option in options}
            out["shares"] = {
                option: round(self.counts.get(option, 0) / self.answered, 4)
                if self.answered
                else 0.0
                for option in options
            }
        return out


def summarise(
    script: Script, answer_sets: Iterable[Mapping[str, str | float | bool]]
) -> list[dict[str, object]]:
    """Per question: how many answered, and counts and shares (choices), or mean, min and
    max (numbers), or the latest answers (text). Answers to questions no longer in the
    script are left out."""
    summaries = {q.id: QuestionSummary(q) for q in script.questions}
    for answers in answer_sets:
        for question_id, value in answers.items():
            summary = summaries.get(question_id)
            if summary is not None:
                try:
                    summary.add(summary.question.check(value))
                except InvalidValue:
                    continue  # the question changed since this answer was given
    return [summary.as_dict() for summary in summaries.values()]
