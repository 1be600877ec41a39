"""Scripts: every kind of question, the checks on its answers, and the campaign's summary
against a recount of the answers."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.outbound.scripts import (
    MAX_OPTIONS,
    MAX_QUESTIONS,
    TEXT_SAMPLES,
    Question,
    QuestionKind,
    Script,
    summarise,
)

Kind = QuestionKind
COLOUR = Question("colour", "Which colour?", Kind.CHOICE, options=("red", "green", "blue"))
AGREE = Question("agree", "Do you agree?", Kind.YES_NO, required=True)
AGE = Question("age", "How old are you?", Kind.NUMBER, minimum=18, maximum=120)
NPS = Question("nps", "How likely to recommend us?", Kind.SCALE, minimum=0, maximum=10)
NOTE = Question("note", "Anything else?", Kind.TEXT)
SURVEY = Script("Hello {name}, this is a short survey.", (COLOUR, AGREE, AGE, NPS, NOTE))


# --- questions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        COLOUR,
        AGREE,
        AGE,
        NPS,
        NOTE,
        Question("a", "A?", Kind.SCALE, minimum=1, maximum=5),
        Question("b", "B?", Kind.SCALE, minimum=-50, maximum=50),  # 100 apart: the most
        Question("c", "C?", Kind.NUMBER, minimum=-1.5, maximum=1e9),
        Question("d", "D?", Kind.CHOICE, options=tuple(f"o{i}" for i in range(MAX_OPTIONS))),
        Question("e" * 40, "x" * 500, Kind.TEXT),
        Question("f", "Line one\nline two\ttabbed", Kind.YES_NO),
    ],
)
def test_well_formed_questions_are_accepted(question: Question) -> None:
    assert question.id


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": "Colour"}, "question id 'Colour' must be 1-40"),
        ({"id": "1st"}, "question id '1st'"),
        ({"id": "a" * 41}, "must be 1-40"),
        ({"id": ""}, "must be 1-40"),
        ({"text": ""}, "its text is 1-500 characters"),
        ({"text": "x" * 501}, "its text is 1-500 characters"),
        ({"text": "bell\x07"}, "its text is 1-500 characters"),
        ({"kind": Kind.CHOICE, "options": ("only",)}, "2-30 distinct options"),
        ({"kind": Kind.CHOICE, "options": ("a", "a")}, "2-30 distinct options"),
        (
            {"kind": Kind.CHOICE, "options": tuple(str(i) for i in range(31))},
            "2-30 distinct options",
        ),
        ({"kind": Kind.CHOICE, "options": ("a", "")}, "options are 1-100 characters"),
        ({"kind": Kind.CHOICE, "options": ("a", "b" * 101)}, "options are 1-100 characters"),
        ({"kind": Kind.CHOICE, "options": ("a", "b\x00")}, "options are 1-100 characters"),
        ({"kind": Kind.YES_NO, "options": ("yes", "no")}, "only a choice has options"),
        ({"kind": Kind.TEXT, "options": ("a", "b")}, "only a choice has options"),
        ({"kind": Kind.NUMBER}, "give a minimum and a maximum"),
        ({"kind": Kind.NUMBER, "minimum": 0}, "give a minimum and a maximum"),
        ({"kind": Kind.SCALE, "maximum": 5}, "give a minimum and a maximum"),
        ({"kind": Kind.NUMBER, "minimum": 0, "maximum": math.inf}, "give a minimum"),
        ({"kind": Kind.NUMBER, "minimum": math.nan, "maximum": 1}, "give a minimum"),
        ({"kind": Kind.NUMBER, "minimum": 5, "maximum": 5}, "the minimum is below the maximum"),
        ({"kind": Kind.SCALE, "minimum": 6, "maximum": 1}, "the minimum is below the maximum"),
        ({"kind": Kind.SCALE, "minimum": 0.5, "maximum": 5}, "a scale runs between integers"),
        ({"kind": Kind.SCALE, "minimum": 1, "maximum": 5.5}, "a scale runs between integers"),
        ({"kind": Kind.SCALE, "minimum": 0, "maximum": 101}, "a scale runs between integers, <="),
        ({"kind": Kind.TEXT, "minimum": 0}, "only numbers and scales have bounds"),
        ({"kind": Kind.YES_NO, "maximum": 1}, "only numbers and scales have bounds"),
        ({"kind": Kind.CHOICE, "options": ("a", "b"), "minimum": 0}, "only numbers and scales"),
    ],
)
def test_a_malformed_question_is_refused_saying_why(
    changes: dict[str, object], message: str
) -> None:
    fields: dict[str, object] = {"id": "q", "text": "Q?", "kind": Kind.TEXT, **changes}
    with pytest.raises(InvalidValue, match=re.escape(message)):
        Question(**fields)  # type: ignore[arg-type]


# --- answers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "value", "stored"),
    [
        (COLOUR, "green", "green"),
        (AGREE, True, True),
        (AGREE, False, False),
        (AGE, 18, 18.0),
        (AGE, 120, 120.0),
        (AGE, 37.5, 37.5),
        (NPS, 0, 0.0),
        (NPS, 10, 10.0),
        (NPS, 7.0, 7.0),  # a whole number given as a float
        (NOTE, "", ""),
        (NOTE, "line one\nline two\r\n\ttab", "line one\nline two\r\n\ttab"),
        (NOTE, "x" * 1000, "x" * 1000),
    ],
)
def test_a_valid_answer_is_stored_as_its_kind(
    question: Question, value: object, stored: object
) -> None:
    got = question.check(value)
    assert got == stored and type(got) is type(stored)


@pytest.mark.parametrize(
    ("question", "value", "message"),
    [
        (COLOUR, "purple", "answer to colour must be one of red, green, blue"),
        (COLOUR, "Red", "must be one of"),
        (COLOUR, 1, "must be one of"),
        (COLOUR, None, "must be one of"),
        (AGREE, "yes", "answer to agree must be true or false"),
        (AGREE, 1, "must be true or false"),
        (AGREE, None, "must be true or false"),
        (AGE, "37", "answer to age must be a number"),
        (AGE, True, "must be a number"),  # a bool is not a number here
        (AGE, None, "must be a number"),
        (AGE, 17.99, "answer to age must be between 18 and 120"),
        (AGE, 121, "must be between 18 and 120"),
        (AGE, math.nan, "must be between"),
        (AGE, math.inf, "must be between"),
        (NPS, -1, "answer to nps must be between 0 and 10"),
        (NPS, 11, "must be between 0 and 10"),
        (NPS, 7.5, "answer to nps must be a whole number on the scale"),
        (NOTE, 42, "answer to note must be text of at most 1000 characters"),
        (NOTE, "x" * 1001, "at most 1000 characters"),
        (NOTE, "nul\x00", "at most 1000 characters"),
        (NOTE, "escape\x1b[31m", "at most 1000 characters"),
    ],
)
def test_an_invalid_answer_is_refused_saying_why(
    question: Question, value: object, message: str
) -> None:
    with pytest.raises(InvalidValue, match=re.escape(message)):
        question.check(value)


@pytest.mark.parametrize("question", [AGE, NPS])
def test_a_huge_integer_answer_is_refused_as_an_invalid_value(question: Question) -> None:
    with pytest.raises(InvalidValue):
        question.check(10**400)


def test_a_script_checks_every_answer_and_returns_them_stored() -> None:
    stored = SURVEY.check_answers({"colour": "red", "agree": False, "nps": 9, "note": "ok"})
    assert dict(stored) == {"colour": "red", "agree": False, "nps": 9.0, "note": "ok"}
    with pytest.raises(TypeError):
        stored["colour"] = "blue"  # type: ignore[index]


def test_unknown_questions_are_refused_by_name_sorted() -> None:
    with pytest.raises(InvalidValue, match="the script has no question hat, shoe"):
        SURVEY.check_answers({"agree": True, "shoe": 1, "hat": 2})


def test_a_required_question_must_be_answered() -> None:
    with pytest.raises(InvalidValue, match=r"required question\(s\) not answered: agree"):
        SURVEY.check_answers({"colour": "red"})
    with pytest.raises(InvalidValue, match="must be true or false"):
        SURVEY.check_answers({"agree": None})  # not a way round the rule
    assert dict(SURVEY.check_answers({"agree": True})) == {"agree": True}


def test_a_bad_answer_in_a_set_refuses_the_set() -> None:
    with pytest.raises(InvalidValue, match="answer to age"):
        SURVEY.check_answers({"agree": True, "age": 7})


@pytest.mark.parametrize(
    ("script", "message"),
    [
        (lambda: Script("x" * 20_001), "at most 20,000 characters"),
        (lambda: Script("form feed \x0c"), "no control codes"),
        (lambda: Script("", (NOTE, NOTE)), "question ids must be distinct"),
        (
            lambda: Script("", tuple(Question(f"q{i}", "Q?", Kind.TEXT) for i in range(51))),
            f"at most {MAX_QUESTIONS} questions",
        ),
    ],
)
def test_a_malformed_script_is_refused(script: object, message: str) -> None:
    with pytest.raises(InvalidValue, match=re.escape(message)):
        script()  # type: ignore[operator]


def test_a_long_script_with_placeholders_and_paragraphs_is_accepted() -> None:
    text = "Good morning {name}.\n\n" + "Read this. " * 1800
    assert Script(text[:20_000]).text.startswith("Good morning {name}.")


# --- summaries --------------------------------------------------------------------------


Answers = Sequence[Mapping[str, object]]


def summarised(script: Script, answers: Answers) -> list[dict[str, object]]:
    # Stored answers may be of any type here: questions change after answers were given.
    return summarise(script, answers)  # type: ignore[arg-type]


def summary_of(script: Script, answers: Answers) -> dict[str, dict[str, object]]:
    return {str(s["question_id"]): s for s in summarised(script, answers)}


def test_a_summary_of_no_answers() -> None:
    found = summary_of(SURVEY, [])
    assert found["colour"] == {
        "question_id": "colour",
        "kind": "choice",
        "answered": 0,
        "counts": {"red": 0, "green": 0, "blue": 0},
        "shares": {"red": 0.0, "green": 0.0, "blue": 0.0},
    }
    assert found["age"] == {
        "question_id": "age",
        "kind": "number",
        "answered": 0,
        "mean": None,
        "min": None,
        "max": None,
    }
    assert found["note"] == {"question_id": "note", "kind": "text", "answered": 0, "latest": []}
    assert list(found) == ["colour", "agree", "age", "nps", "note"]  # the script's order


def test_a_summary_counts_shares_and_means() -> None:
    answers: list[dict[str, object]] = [
        {"colour": "red", "agree": True, "age": 30, "nps": 9, "note": "great"},
        {"colour": "red", "agree": False, "age": 40.5, "nps": 10},
        {"colour": "blue", "agree": True, "nps": 3, "note": "meh"},
    ]
    found = summary_of(SURVEY, answers)
    assert found["colour"]["counts"] == {"red": 2, "green": 0, "blue": 1}
    assert found["colour"]["shares"] == {"red": 0.6667, "green": 0.0, "blue": 0.3333}
    assert found["agree"]["counts"] == {"yes": 2, "no": 1}
    assert found["agree"]["shares"] == {"yes": 0.6667, "no": 0.3333}
    assert found["age"] == {
        "question_id": "age",
        "kind": "number",
        "answered": 2,
        "mean": 35.25,
        "min": 30.0,
        "max": 40.5,
    }
    nps = found["nps"]
    assert nps["answered"] == 3 and nps["mean"] == pytest.approx(7.3333)
    assert nps["min"] == 3.0 and nps["max"] == 10.0
    assert nps["counts"] == {str(p): {3: 1, 9: 1, 10: 1}.get(p, 0) for p in range(11)}
    assert found["note"]["latest"] == ["great", "meh"]


def test_a_summary_keeps_the_latest_five_texts() -> None:
    answers: list[dict[str, object]] = [{"note": f"n{i}"} for i in range(8)]
    assert summary_of(SURVEY, answers)["note"]["latest"] == ["n3", "n4", "n5", "n6", "n7"]
    assert summary_of(SURVEY, answers)["note"]["answered"] == 8


def test_a_scale_with_negative_points_is_counted_on_them() -> None:
    temperature = Question("t", "Feel?", Kind.SCALE, minimum=-2, maximum=2)
    found = summary_of(Script("", (temperature,)), [{"t": -2}, {"t": -2}, {"t": 1}])["t"]
    assert found["counts"] == {"-2": 2, "-1": 0, "0": 0, "1": 1, "2": 0}
    assert found["mean"] == pytest.approx(-1.0)


def test_answers_to_questions_gone_or_changed_are_left_out() -> None:
    # The script changed since: "age" is gone, "colour" lost an option, "nps" got narrower.
    now = Script(
        "",
        (
            Question("colour", "Which colour?", Kind.CHOICE, options=("red", "green")),
            Question("nps", "Likely?", Kind.SCALE, minimum=0, maximum=5),
        ),
    )
    answers: list[dict[str, object]] = [
        {"colour": "blue", "age": 30, "nps": 9},
        {"colour": "red", "nps": 4},
    ]
    found = summary_of(now, answers)
    assert set(found) == {"colour", "nps"}
    assert found["colour"]["answered"] == 1 and found["colour"]["counts"] == {"red": 1, "green": 0}
    assert found["nps"]["answered"] == 1 and found["nps"]["mean"] == 4.0


QUESTIONS = (
    COLOUR,
    Question("agree", "Agree?", Kind.YES_NO),
    Question("amount", "How much?", Kind.NUMBER, minimum=-100, maximum=100),
    Question("stars", "Stars?", Kind.SCALE, minimum=1, maximum=5),
    NOTE,
)
SCRIPT = Script("", QUESTIONS)


def any_answer(question: Question) -> st.SearchStrategy[object]:
    """Valid answers mostly, and some that the question refuses (changed since)."""
    wrong = st.one_of(st.none(), st.text(max_size=3), st.integers(-200, 200))
    if question.kind is Kind.CHOICE:
        return st.one_of(st.sampled_from(question.options), wrong)
    if question.kind is Kind.YES_NO:
        return st.one_of(st.booleans(), wrong)
    if question.kind is Kind.NUMBER:
        return st.one_of(st.floats(-100, 100), st.integers(-100, 100), wrong)
    if question.kind is Kind.SCALE:
        return st.one_of(st.integers(1, 5), st.floats(0, 6), wrong)
    return st.one_of(st.text(max_size=20), wrong)


answer_sets = st.lists(
    st.fixed_dictionaries(
        {},
        optional={q.id: any_answer(q) for q in QUESTIONS} | {"gone": st.integers()},
    ),
    max_size=40,
)


def valid(question: Question, value: object) -> bool:
    try:
        question.check(value)
    except InvalidValue:
        return False
    return True


def brute(question: Question, answers: Answers) -> dict[str, object]:
    values = [
        a[question.id] for a in answers if question.id in a and valid(question, a[question.id])
    ]
    n = len(values)
    out: dict[str, object] = {"question_id": question.id, "kind": question.kind.value}
    out["answered"] = n
    if question.kind is Kind.TEXT:
        out["latest"] = [str(v) for v in values][-TEXT_SAMPLES:]
        return out
    if question.kind in (Kind.NUMBER, Kind.SCALE):
        numbers = [float(v) for v in values]  # type: ignore[arg-type]
        out["mean"] = round(sum(numbers) / n, 4) if n else None
        out["min"] = min(numbers) if n else None
        out["max"] = max(numbers) if n else None
    if question.kind is Kind.NUMBER:
        return out
    if question.kind is Kind.CHOICE:
        options, keys = list(question.options), [str(v) for v in values]
    elif question.kind is Kind.YES_NO:
        options, keys = ["yes", "no"], ["yes" if v else "no" for v in values]
    else:
        options = [str(p) for p in range(1, 6)]
        keys = [str(int(float(v))) for v in values]  # type: ignore[arg-type]
    tally = Counter(keys)
    out["counts"] = {o: tally[o] for o in options}
    out["shares"] = {o: round(tally[o] / n, 4) if n else 0.0 for o in options}
    return out


@settings(max_examples=150, deadline=None)
@given(answer_sets)
def test_the_summary_is_a_recount_of_the_answers(answers: list[dict[str, object]]) -> None:
    got = summarised(SCRIPT, answers)
    assert len(got) == len(QUESTIONS)
    for summary, question in zip(got, QUESTIONS, strict=True):
        expected = brute(question, answers)
        if "mean" in expected and expected["mean"] is not None:
            assert summary["mean"] == pytest.approx(expected.pop("mean"), abs=1e-4)
            summary = {k: v for k, v in summary.items() if k != "mean"}
        assert summary == expected
        shares = summary.get("shares")
        if isinstance(shares, dict) and summary["answered"]:
            assert sum(shares.values()) == pytest.approx(1.0, abs=1e-3)
