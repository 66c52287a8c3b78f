"""The small language of rules: conditions and linear expressions over features.

Grammar (words are case-sensitive feature names; ``and`` joins clauses)::

    condition := all ("or" all)*                  ("and" binds tighter than "or")
    all       := clause ("and" clause)*
    clause    := NAME "changes" | NAME "increases" | NAME "decreases"
               | NAME "stays" | NAME "does" "not" "change"
               | NAME "becomes" VALUE
               | NAME "is" ["not"] VALUE
               | NAME ["not"] "in" "[" VALUE ("," VALUE)* "]"
               | expr ("<=" | ">=" | "==" | "!=" | "<" | ">") expr
    expr      := term (("+" | "-") term)*        (linear: products need a number)
    term      := factor (("*" | "/") factor)*
    factor    := NUMBER | NAME | "(" expr ")" | "-" factor

Names may contain dots (``emp.var.rate``); other names go in backquotes. A VALUE is a bare
word, a number, or a quoted text (``'< 0 DM'``). A text is at most
:data:`~constraints._limits.MAX_RULE_LENGTH` characters, nests parentheses and minus signs
at most :data:`~constraints._limits.MAX_RULE_NESTING` deep, and every number (as written and
once multiplied out) is at most :data:`~constraints._limits.MAX_NUMBER` in size. Parsing
here knows nothing of the features; :mod:`constraints._resolve` gives the clauses their
meaning.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from constraints._limits import MAX_NUMBER, MAX_NUMBER_TEXT, MAX_RULE_LENGTH, MAX_RULE_NESTING
from constraints.errors import ConstraintError

__all__ = [
    "Compare",
    "Expression",
    "ParsedChange",
    "ParsedMembership",
    "Token",
    "parse_condition",
    "parse_expression",
]

_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_.]*)"
    r"|`(?P<bq>[^`]+)`"
    r"|'(?P<sq>[^']*)'|\"(?P<dq>[^\"]*)\""
    r"|(?P<op><=|>=|==|!=|<|>|\+|-|\*|/|\(|\)|\[|\]|,))"
)
_KEYWORDS = {
    "and",
    "or",
    "is",
    "not",
    "in",
    "becomes",
    "changes",
    "increases",
    "decreases",
    "stays",
    "does",
}


@dataclass(frozen=True, slots=True)
class Token:
    """One token: ``kind`` is number, name, text, op, word (keyword) or end."""

    kind: str
    value: str
    position: int


def _tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            start = len(text) - len(text[pos:].lstrip())
            bad = text[start:][:12]
            hint = " Hint: write == to test equality (or <=, >=)." if bad.startswith("=") else ""
            raise ConstraintError(f"cannot read {bad!r} (character {start + 1}).{hint}")
        start = match.start(match.lastgroup or 0)
        group = match.lastgroup
        value = match.group(group or 0)
        if group == "name" and value in _KEYWORDS:
            tokens.append(Token("word", value, start))
        elif group in ("sq", "dq"):
            tokens.append(Token("text", value, start))
        elif group == "bq":
            tokens.append(Token("name", value, start))
        else:
            tokens.append(Token(group or "op", value, start))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


@dataclass(frozen=True, slots=True)
class Expression:
    """A linear expression ``sum(coef * name) + constant`` as written.

    ``single`` is the lone token when the expression is just one name, number or text (used
    to read ``education >= secondary`` as a comparison of categories).
    """

    terms: tuple[tuple[str, float], ...]
    constant: float
    single: Token | None


@dataclass(frozen=True, slots=True)
class Compare:
    """``left op right``, before resolution."""

    left: Expression
    op: str
    right: Expression


@dataclass(frozen=True, slots=True)
class ParsedChange:
    """``name changes|increases|decreases``."""

    feature: str
    kind: str


@dataclass(frozen=True, slots=True)
class ParsedMembership:
    """``name is [not] v``, ``name [not] in [...]`` or ``name becomes v``."""

    feature: str
    values: tuple[Token, ...]
    negate: bool
    becomes: bool


ParsedClause = Compare | ParsedChange | ParsedMembership


def _number(tok: Token) -> float:
    """Return a number token's value: finite and at most MAX_NUMBER in size."""
    value = float(tok.value)
    if not abs(value) <= MAX_NUMBER:
        shown = tok.value if len(tok.value) <= 24 else tok.value[:20] + "..."
        raise ConstraintError(
            f"numbers must be at most {MAX_NUMBER_TEXT} in size ({shown} at character "
            f"{tok.position + 1})"
        )
    return value


def _check_length(text: str) -> None:
    if len(text) > MAX_RULE_LENGTH:
        raise ConstraintError(
            f"a rule or expression must be at most {MAX_RULE_LENGTH:,} characters long"
        )


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def fail(self, expected: str) -> ConstraintError:
        tok = self.tok
        got = "the end of the text" if tok.kind == "end" else repr(tok.value)
        return ConstraintError(f"expected {expected} at character {tok.position + 1}, got {got}")

    def take(self, kind: str, value: str | None = None) -> Token | None:
        tok = self.tok
        if tok.kind == kind and (value is None or tok.value == value):
            self.i += 1
            return tok
        return None

    def expect(self, kind: str, value: str | None, expected: str) -> Token:
        tok = self.take(kind, value)
        if tok is None:
            raise self.fail(expected)
        return tok

    def enter(self, tok: Token) -> None:
        """Go one level deeper (a parenthesis or a minus sign), within the nesting limit."""
        self.depth += 1
        if self.depth > MAX_RULE_NESTING:
            raise ConstraintError(
                f"parentheses and minus signs must nest at most {MAX_RULE_NESTING} deep "
                f"(deeper at character {tok.position + 1})"
            )

    def condition(self) -> list[list[ParsedClause]]:
        alternatives = [self.conjunction()]
        while self.take("word", "or"):
            alternatives.append(self.conjunction())
        if self.tok.kind != "end":
            raise self.fail("'and', 'or' or the end of the rule")
        return alternatives

    def conjunction(self) -> list[ParsedClause]:
        clauses = [self.clause()]
        while self.take("word", "and"):
            clauses.append(self.clause())
        return clauses

    def value(self) -> Token:
        tok = self.tok
        if tok.kind in ("name", "number", "text"):
            self.i += 1
            if tok.kind == "number":
                _number(tok)
            return tok
        if tok.kind == "op" and tok.value == "-" and self.tokens[self.i + 1].kind == "number":
            self.i += 2
            _number(self.tokens[self.i - 1])
            return Token("number", "-" + self.tokens[self.i - 1].value, tok.position)
        raise self.fail("a value (a word, a number or a quoted text)")

    def clause(self) -> ParsedClause:
        if self.tok.kind == "name":
            name, nxt = self.tok.value, self.tokens[self.i + 1]
            if nxt.kind == "word":
                self.i += 2
                return self.word_clause(name, nxt.value)
        left = self.expression()
        op = self.tok
        if op.kind != "op" or op.value not in ("<=", ">=", "==", "!=", "<", ">"):
            raise self.fail("a comparison (<=, >=, ==, !=) or a word such as 'is' or 'becomes'")
        self.i += 1
        return Compare(left, op.value, self.expression())

    def word_clause(self, name: str, word: str) -> ParsedClause:
        if word in ("changes", "increases", "decreases", "stays"):
            return ParsedChange(name, word)
        if word == "does":
            self.expect("word", "not", "'not' after 'does'")
            self.expect("name", "change", "'change' after 'does not'")
            return ParsedChange(name, "stays")
        if word == "becomes":
            return ParsedMembership(name, (self.value(),), negate=False, becomes=True)
        if word == "is":
            negate = self.take("word", "not") is not None
            return ParsedMembership(name, (self.value(),), negate=negate, becomes=False)
        negate = word == "not"
        if negate:
            self.expect("word", "in", "'in' after 'not'")
        elif word != "in":
            raise ConstraintError(
                f"expected 'is', 'in', 'becomes', 'changes', 'stays', 'increases' or "
                f"'decreases' after {name!r}, got {word!r}"
            )
        self.expect("op", "[", "'[' to open the list of values")
        values = [self.value()]
        while self.take("op", ","):
            values.append(self.value())
        self.expect("op", "]", "',' or ']' to close the list of values")
        return ParsedMembership(name, tuple(values), negate=negate, becomes=False)

    def expression(self) -> Expression:
        start = self.i
        terms, constant = self.term()
        while self.tok.kind == "op" and self.tok.value in ("+", "-"):
            sign = 1.0 if self.tokens[self.i].value == "+" else -1.0
            self.i += 1
            more, more_const = self.term()
            for name, coef in more.items():
                terms[name] = terms.get(name, 0.0) + sign * coef
            constant += sign * more_const
        single = self.tokens[start] if self.i == start + 1 else None
        for value in (constant, *terms.values()):
            if not abs(value) <= MAX_NUMBER and not math.isnan(value):
                raise ConstraintError(
                    f"numbers must be at most {MAX_NUMBER_TEXT} in size, once multiplied out "
                    f"({value:g} from character {self.tokens[start].position + 1})"
                )
        return Expression(tuple(terms.items()), constant, single)

    def term(self) -> tuple[dict[str, float], float]:
        terms, constant = self.factor()
        while self.tok.kind == "op" and self.tok.value in ("*", "/"):
            op = self.tok.value
            self.i += 1
            other, other_const = self.factor()
            if op == "*" and not terms:
                terms = {k: v * constant for k, v in other.items()}
                constant *= other_const
            elif not other:
                if op == "/" and other_const == 0:
                    raise ConstraintError("division by zero")
                factor = other_const if op == "*" else 1.0 / other_const
                terms = {k: v * factor for k, v in terms.items()}
                constant *= factor
            else:
                what = "multiply two features" if op == "*" else "divide by a feature"
                raise ConstraintError(f"must be linear: cannot {what}")
        return terms, constant

    def factor(self) -> tuple[dict[str, float], float]:
        tok = self.tok
        if tok.kind == "number":
            self.i += 1
            return {}, _number(tok)
        if tok.kind == "name":
            self.i += 1
            return {tok.value: 1.0}, 0.0
        if tok.kind == "text":
            self.i += 1
            return {}, float("nan")
        if self.take("op", "-"):
            self.enter(tok)
            terms, constant = self.factor()
            self.depth -= 1
            return {k: -v for k, v in terms.items()}, -constant
        if self.take("op", "("):
            self.enter(tok)
            expr = self.expression()
            self.expect("op", ")", "')'")
            self.depth -= 1
            return dict(expr.terms), expr.constant
        raise self.fail("a number, a feature name or '('")


def parse_condition(text: str) -> list[list[ParsedClause]]:
    """Parse a condition into alternatives (``or``) of clauses (``and``).

    Raises ConstraintError on bad syntax.

    Examples
    --------
    >>> alternatives = parse_condition("a becomes yes and b <= 0.5 * c or d stays")
    >>> [[type(c).__name__ for c in alt] for alt in alternatives]
    [['ParsedMembership', 'Compare'], ['ParsedChange']]
    """
    if not text.strip():
        raise ConstraintError("the rule is empty")
    _check_length(text)
    try:
        return _Parser(text).condition()
    except RecursionError as exc:  # a safety net: the nesting limit comes first
        raise ConstraintError("the rule nests too deeply to be read") from exc


def parse_expression(text: str) -> Expression:
    """Parse a linear expression such as ``a + 2 * b - 1``.

    Examples
    --------
    >>> parse_expression("a + 2 * (b - 1)").terms
    (('a', 1.0), ('b', 2.0))
    """
    if not text.strip():
        raise ConstraintError("the expression is empty")
    _check_length(text)
    parser = _Parser(text)
    try:
        expr = parser.expression()
    except RecursionError as exc:  # a safety net: the nesting limit comes first
        raise ConstraintError("the expression nests too deeply to be read") from exc
    if parser.tok.kind != "end":
        raise parser.fail("'+', '-', '*', '/' or the end of the expression")
    return expr
