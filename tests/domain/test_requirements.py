"""Queue requirement expressions: what they accept, what they mean, how they refuse."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.requirements import (
    ANY,
    all_of,
    parse_requirement,
    requirement_from_levels,
)


def test_the_issue_s_example() -> None:
    r = parse_requirement('de >= 5 and (billing >= 3 or team == "vip")')
    assert r.matches({"de": 5, "billing": 3}, {})
    assert r.matches({"de": 7}, {"team": "vip"})
    assert not r.matches({"de": 4, "billing": 9}, {"team": "vip"})
    assert not r.matches({"de": 9, "billing": 2}, {"team": "gold"})
    assert r.skills == {"de", "billing"} and r.attributes == {"team"}


def test_and_binds_tighter_than_or_and_not_applies_to_one_atom() -> None:
    r = parse_requirement("a or b and c")
    assert r.source == "a >= 1 or b >= 1 and c >= 1"
    assert r.matches({"a": 1}, {}) and not r.matches({"b": 1}, {})
    n = parse_requirement("not a and b")
    assert n.matches({"b": 2}, {}) and not n.matches({"a": 1, "b": 2}, {})
    assert parse_requirement("not (a and b)").source == "not (a >= 1 and b >= 1)"


def test_missing_skill_is_level_0_and_missing_attribute_is_empty() -> None:
    assert parse_requirement("fr < 1").matches({}, {})
    assert parse_requirement("fr == 0").matches({"de": 3}, {})
    assert parse_requirement('site != "berlin"').matches({}, {})
    assert not parse_requirement('site == "berlin"').matches({}, {})


def test_in_and_not_in() -> None:
    r = parse_requirement("language in ('de', \"en\")")
    assert r.source == 'language in ("de", "en")'
    assert r.matches({}, {"language": "en"}) and not r.matches({}, {"language": "fr"})
    assert parse_requirement('language not in ("de")').matches({}, {"language": "fr"})
    assert parse_requirement('language in ("de")').source == 'language == "de"'


def test_constants() -> None:
    assert parse_requirement("true").matches({}, {})
    assert not parse_requirement("false or false").matches({}, {})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "requirement is empty"),
        ("   ", "requirement is empty"),
        ("de >= ", "at column 7: expected a level 0-10 after '>=', found the end"),
        ("de >= 11", "at column 7: level 11 is above 10"),
        ("de => 5", "at column 4: unknown operator '=>' (did you mean '>='?)"),
        ("de = 5", "at column 4: unknown operator '=' (did you mean '=='?)"),
        ("(de >= 5 or en", "at column 1: unclosed '('"),
        ("de >= 5)", "at column 8: ')' without a matching '('"),
        ("de >= 5 en", "at column 9: expected 'and', 'or' or the end, found 'en'"),
        ("and de", "at column 1: expected a skill, an attribute, 'not' or '(', found 'and'"),
        ('team >= "x"', "an attribute is compared with '==' or '!=', not '>='"),
        ("team in de", "expected '(' and a list of quoted values, found 'de'"),
        ('team in ("a" "b")', "expected ',' or ')', found '\"b\"'"),
        ("DE >= 1", "found 'D'"),
        ('team == "a" and team >= 2', "'team' is compared with both a number and a string"),
    ],
)
def test_refusals_say_where_and_what(text: str, message: str) -> None:
    with pytest.raises(InvalidValue, match=re.escape(message)):
        parse_requirement(text)


def test_limits() -> None:
    with pytest.raises(InvalidValue, match="at most 1000"):
        parse_requirement("a or " * 250 + "a")
    with pytest.raises(InvalidValue, match="nested more than 32 deep"):
        parse_requirement("(" * 40 + "a" + ")" * 40)
    with pytest.raises(InvalidValue, match="more than 100 comparisons"):
        parse_requirement(" or ".join(f"s{i}" for i in range(101)))


def test_levels_conjunction_and_proficiency() -> None:
    levels = requirement_from_levels({"de": 5, "billing": 3})
    assert levels.source == "billing >= 3 and de >= 5"
    assert requirement_from_levels({}) is ANY
    both = all_of(levels, ANY, parse_requirement('team == "vip" or x'))
    assert both.source == 'billing >= 3 and de >= 5 and (team == "vip" or x >= 1)'
    assert both.skills == {"billing", "de", "x"} and both.attributes == {"team"}
    assert all_of(ANY, ANY) is ANY
    assert both.proficiency({"de": 7, "billing": 2, "fr": 9}) == 9


def test_equal_and_hashed_by_canonical_text() -> None:
    a, b = parse_requirement("de>=5 and(x)"), parse_requirement("de >= 5 and x")
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1


# --- generated expressions against a reference evaluator ---------------------------------

SKILLS, ATTRS, VALUES = ["a", "b", "c"], ["team", "site"], ["x", "y", ""]
OPS = {">=", ">", "<=", "<", "==", "!="}

leaves = st.one_of(
    st.tuples(
        st.just("skill"), st.sampled_from(SKILLS), st.sampled_from(sorted(OPS)), st.integers(0, 10)
    ),
    st.tuples(
        st.just("attr"),
        st.sampled_from(ATTRS),
        st.booleans(),
        st.lists(st.sampled_from(VALUES[:2]), min_size=1, max_size=2, unique=True),
    ),
    st.tuples(st.just("const"), st.booleans()),
)
trees = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.tuples(st.just("not"), inner),
        st.tuples(st.sampled_from(["and", "or"]), st.lists(inner, min_size=2, max_size=3)),
    ),
    max_leaves=12,
)


def text_of(tree: tuple) -> str:  # type: ignore[type-arg]
    kind = tree[0]
    if kind == "skill":
        return f"{tree[1]} {tree[2]} {tree[3]}"
    if kind == "attr":
        values = ", ".join(f'"{v}"' for v in tree[3])
        return f"{tree[1]} {'not in' if tree[2] else 'in'} ({values})"
    if kind == "const":
        return "true" if tree[1] else "false"
    if kind == "not":
        return f"not ({text_of(tree[1])})"
    return "(" + f" {kind} ".join(text_of(t) for t in tree[1]) + ")"


def reference(tree: tuple, skills: dict[str, int], attrs: dict[str, str]) -> bool:  # type: ignore[type-arg]
    kind = tree[0]
    if kind == "skill":
        have, level = skills.get(tree[1], 0), tree[3]
        return {
            ">=": have >= level,
            ">": have > level,
            "<=": have <= level,
            "<": have < level,
            "==": have == level,
            "!=": have != level,
        }[tree[2]]
    if kind == "attr":
        return (attrs.get(tree[1], "") in tree[3]) != tree[2]
    if kind == "const":
        return bool(tree[1])
    if kind == "not":
        return not reference(tree[1], skills, attrs)
    results = [reference(t, skills, attrs) for t in tree[1]]
    return all(results) if kind == "and" else any(results)


@settings(max_examples=300, deadline=None)
@given(
    trees,
    st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 10)),
    st.dictionaries(st.sampled_from(ATTRS), st.sampled_from(VALUES)),
)
def test_generated_expressions_mean_what_they_say(
    tree: tuple,
    skills: dict[str, int],
    attrs: dict[str, str],  # type: ignore[type-arg]
) -> None:
    compiled = parse_requirement(text_of(tree))
    assert compiled.matches(skills, attrs) == reference(tree, skills, attrs)
    again = parse_requirement(compiled.source)
    assert again == compiled and again.source == compiled.source
    assert again.matches(skills, attrs) == compiled.matches(skills, attrs)
