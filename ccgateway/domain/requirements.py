"""Queue requirements as small boolean expressions over an agent's skills and attributes.

    de >= 5 and (billing >= 3 or team == "vip") and language in ("de", "en")

Grammar (keywords lowercase):

    expr       := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | atom
    atom       := "(" expr ")" | "true" | "false" | comparison | NAME
    comparison := NAME OP LEVEL                    a skill's level; no skill means level 0
                | NAME ("==" | "!=") STRING        an attribute; a missing one is ""
                | NAME ["not"] "in" "(" STRING ("," STRING)* ")"
    OP := >= | > | <= | < | == | !=     LEVEL := 0-10     a bare NAME means NAME >= 1

An expression is parsed once (when the queue is saved) into a tree of frozen nodes and
evaluated by the routing engine once per agent and pool, so parsing favours clear errors
(a column and what was expected) and evaluation favours plain attribute access. The text
is the customer's and ends up in logs and the API, so its size and depth are bounded.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ccgateway.domain.errors import InvalidValue

MAX_LENGTH, MAX_DEPTH, MAX_TERMS, MAX_LEVEL = 1000, 32, 100, 10
KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false"})
OPERATORS: dict[str, Callable[[int, int], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>"[^"\x00-\x1f]{0,100}"|'[^'\x00-\x1f]{0,100}')
    | (?P<op>>=|<=|==|!=|>|<)
    | (?P<punct>[(),])
    | (?P<word>[a-z0-9][a-z0-9_.-]{0,63})
    | (?P<bad>\S)
    )""",
    re.VERBOSE,
)
_LIKELY_TYPOS = {"=>": ">=", "=<": "<=", "=": "==", "<>": "!="}


class Node:
    __slots__ = ()

    def test(self, skills: Mapping[str, int], attributes: Mapping[str, str]) -> bool:
        raise NotImplementedError

    def render(self, parent: int) -> str:
        """Canonical text; `parent` is the binding strength around it (0 or, 1 and, 2 not)."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Constant(Node):
    value: bool

    def test(self, skills: Mapping[str, int], attributes: Mapping[str, str]) -> bool:
        return self.value

    def render(self, parent: int) -> str:
        return "true" if self.value else "false"


@dataclass(frozen=True, slots=True)
class SkillLevel(Node):
    skill: str
    op: str
    level: int

    def test(self, skills: Mapping[str, int], attributes: Mapping[str, str]) -> bool:
        return OPERATORS[self.op](skills.get(self.skill, 0), self.level)

    def render(self, parent: int) -> str:
        return f"{self.skill} {self.op} {self.level}"


@dataclass(frozen=True, slots=True)
class AttributeIs(Node):
    attribute: str
    values: frozenset[str]
    negated: bool

    def test(self, skills: Mapping[str, int], attributes: Mapping[str, str]) -> bool:
        return (attributes.get(self.attribute, "") in self.values) != self.negated

    def render(self, parent: int) -> str:
        if len(self.values) == 1:
            [value] = self.values
            return f'{self.attribute} {"!=" if self.negated else "=="} "{value}"'
        listed = ", ".join(f'"{v}"' for v in sorted(self.values))
        return f"{self.attribute} {'not in' if self.negated else 'in'} ({listed})"


@dataclass(frozen=True, slots=True)
class Not(Node):
    operand: Node

    def test(self, skills: Mapping[str, int], attributes: Mapping[str, str]) -> bool:
        return not self.operand.test(skills, attributes)

    def render(self, parent: int) -> str:
        return f"not {self.operand.render(2)}"


@dataclass(frozen=True, slots=True)
class Junction(Node):
    """`and` (all) or `or` (any) of two or more operands."""

    word: str
    operands: tuple[Node, ...]

    def test(self, skills: Mapping[str, int], attributes: Mapping[str, str]) -> bool:
        if self.word == "and":
            return all(o.test(skills, attributes) for o in self.operands)
        return any(o.test(skills, attributes) for o in self.operands)

    def render(self, parent: int) -> str:
        strength = 1 if self.word == "and" else 0
        text = f" {self.word} ".join(o.render(strength) for o in self.operands)
        return f"({text})" if parent > strength else text


@dataclass(frozen=True, slots=True)
class Requirement:
    """A compiled requirement; equal (and hashed) by its canonical text."""

    source: str
    skills: frozenset[str] = field(compare=False)
    attributes: frozenset[str] = field(compare=False)
    tree: Node = field(compare=False, repr=False)

    def matches(self, skills: Mapping[str, int], attributes: Mapping[str, str]) -> bool:
        return self.tree.test(skills, attributes)

    def proficiency(self, skills: Mapping[str, int]) -> int:
        """The agent's levels summed over the skills this requirement names."""
        return sum(skills.get(skill, 0) for skill in self.skills)


def _compiled(tree: Node, skills: frozenset[str], attributes: frozenset[str]) -> Requirement:
    return Requirement(tree.render(0), skills, attributes, tree)


ANY = _compiled(Constant(True), frozenset(), frozenset())


def parse_requirement(text: str) -> Requirement:
    """Compile `text`, or raise InvalidValue saying where and what is wrong."""
    if len(text) > MAX_LENGTH:
        raise InvalidValue(f"requirement is {len(text)} characters; at most {MAX_LENGTH}")
    if not text.strip():
        raise InvalidValue("requirement is empty")
    parser = _Parser(text)
    tree = parser.expression(0)
    parser.expect_end()
    both = parser.skills & parser.attributes
    if both:
        name = sorted(both)[0]
        raise InvalidValue(
            f"requirement {text!r}: {name!r} is compared with both a number and a string"
        )
    return _compiled(tree, frozenset(parser.skills), frozenset(parser.attributes))


def requirement_from_levels(levels: Mapping[str, int]) -> Requirement:
    """The classic form, every skill at a minimum level, as a requirement."""
    if not levels:
        return ANY
    terms = tuple(SkillLevel(s, ">=", lvl) for s, lvl in sorted(levels.items()))
    tree = terms[0] if len(terms) == 1 else Junction("and", terms)
    return _compiled(tree, frozenset(levels), frozenset())


def all_of(*requirements: Requirement) -> Requirement:
    parts = [r for r in requirements if r != ANY]
    if not parts:
        return ANY
    if len(parts) == 1:
        return parts[0]
    tree = Junction("and", tuple(r.tree for r in parts))
    skills = frozenset().union(*(r.skills for r in parts))
    attributes = frozenset().union(*(r.attributes for r in parts))
    return _compiled(tree, skills, attributes)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []  # (kind, text, 1-based column)
        for match in _TOKEN.finditer(text):
            kind = match.lastgroup
            if kind is None:  # only trailing whitespace was left
                break
            self.tokens.append((kind, match.group(kind), match.start(kind) + 1))
        self.at = 0
        self.terms = 0
        self.skills: set[str] = set()
        self.attributes: set[str] = set()

    # --- tokens ---------------------------------------------------------------------

    def fail(self, message: str, column: int | None = None) -> InvalidValue:
        if column is None:
            column = self.tokens[self.at][2] if self.at < len(self.tokens) else len(self.text) + 1
        return InvalidValue(f"requirement {self.text!r} at column {column}: {message}")

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def found(self) -> str:
        token = self.peek()
        return "the end" if token is None else f"{token[1]!r}"

    def take(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token[1] == word and token[0] != "string":
            self.at += 1
            return True
        return False

    def need(self, word: str, what: str) -> None:
        if not self.take(word):
            raise self.fail(f"expected {what}, found {self.found()}")

    def expect_end(self) -> None:
        token = self.peek()
        if token is None:
            return
        if token[1] == ")":
            raise self.fail("')' without a matching '('")
        raise self.fail(f"expected 'and', 'or' or the end, found {self.found()}")

    # --- grammar --------------------------------------------------------------------

    def expression(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.fail(f"nested more than {MAX_DEPTH} deep")
        return self.junction("or", depth)

    def junction(self, word: str, depth: int) -> Node:
        operand = self.junction("and", depth) if word == "or" else self.negation(depth)
        operands = [operand]
        while self.take(word):
            operands.append(self.junction("and", depth) if word == "or" else self.negation(depth))
        return operands[0] if len(operands) == 1 else Junction(word, tuple(operands))

    def negation(self, depth: int) -> Node:
        if self.take("not"):
            if depth + 1 > MAX_DEPTH:
                raise self.fail(f"nested more than {MAX_DEPTH} deep")
            return Not(self.negation(depth + 1))
        return self.atom(depth)

    def atom(self, depth: int) -> Node:
        token = self.peek()
        if token is None:
            raise self.fail("expected a skill, an attribute, 'not' or '(', found the end")
        kind, text, column = token
        if text == "(" and kind == "punct":
            self.at += 1
            inner = self.expression(depth + 1)
            if not self.take(")"):
                if self.peek() is None:
                    raise self.fail("unclosed '('", column)
                raise self.fail(f"expected ')' or 'and'/'or', found {self.found()}")
            return inner
        if kind == "word" and text in ("true", "false"):
            self.at += 1
            return Constant(text == "true")
        if kind != "word" or text in KEYWORDS:
            raise self.fail(f"expected a skill, an attribute, 'not' or '(', found {text!r}")
        self.at += 1
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise self.fail(f"more than {MAX_TERMS} comparisons")
        return self.comparison(text)

    def comparison(self, name: str) -> Node:
        token = self.peek()
        if token is not None and token[0] == "bad" and token[1] in "=<>!":
            typo = self.text[token[2] - 1 : token[2] + 1].strip()
            hint = _LIKELY_TYPOS.get(typo) or _LIKELY_TYPOS.get(token[1])
            suggestion = f" (did you mean '{hint}'?)" if hint else ""
            raise self.fail(f"unknown operator {typo!r}{suggestion}")
        if token is not None and token[0] == "op":
            self.at += 1
            return self.compared(name, token[1])
        if self.take("in"):
            return self.listed(name, negated=False)
        if token is not None and token[1] == "not" and self._next_is("in"):
            self.at += 2
            return self.listed(name, negated=True)
        self.skills.add(name)
        return SkillLevel(name, ">=", 1)

    def _next_is(self, word: str) -> bool:
        following = self.tokens[self.at + 1] if self.at + 1 < len(self.tokens) else None
        return following is not None and following[1] == word

    def compared(self, name: str, op: str) -> Node:
        token = self.peek()
        if token is not None and token[0] == "string" and op in ("==", "!="):
            self.at += 1
            self.attributes.add(name)
            return AttributeIs(name, frozenset({token[1][1:-1]}), op == "!=")
        if token is not None and token[0] == "string":
            raise self.fail(f"an attribute is compared with '==' or '!=', not {op!r}")
        if token is None or token[0] != "word" or not token[1].isdigit():
            raise self.fail(f"expected a level 0-{MAX_LEVEL} after {op!r}, found {self.found()}")
        level = int(token[1])
        if level > MAX_LEVEL:
            raise self.fail(f"level {level} is above {MAX_LEVEL}")
        self.at += 1
        self.skills.add(name)
        return SkillLevel(name, op, level)

    def listed(self, name: str, negated: bool) -> Node:
        self.need("(", "'(' and a list of quoted values")
        values: list[str] = []
        while True:
            token = self.peek()
            if token is None or token[0] != "string":
                raise self.fail(f"expected a quoted value, found {self.found()}")
            values.append(token[1][1:-1])
            self.at += 1
            if self.take(")"):
                break
            self.need(",", "',' or ')'")
        self.attributes.add(name)
        return AttributeIs(name, frozenset(values), negated)
