"""The subset of Jira Query Language the simulator's Jira answers, parsed properly.

Supported (keywords and field names case-insensitive):

    clause   := project = KEY | project != KEY | project in (A, B) | project not in (A, B)
              | key|issuekey = K | key in (K1, K2)
              | updated|created  (= | != | > | >= | < | <=)  DATE
    query    := [clause (AND clause)*] [ORDER BY sort (, sort)*]
    sort     := (updated | created | key | issuekey | id) [ASC | DESC]
    DATE     := "yyyy/MM/dd HH:mm" | "yyyy-MM-dd HH:mm" | "yyyy/MM/dd" | "yyyy-MM-dd"
              | a relative offset such as "-1d", "-4h", "-30m", "-2w" (from the clock)

Values may be quoted ('...' or "...") or bare. Anything else (OR, NOT, functions, other
fields) is rejected with the message Jira would give, as a `JqlError`. Dates are read in UTC
(the simulated users' time zone) and, like Jira's, are minute-granular.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

DATE_FIELDS = ("updated", "created")
COMPARISONS = ("=", "!=", ">", ">=", "<", "<=")
SORT_FIELDS = {
    "updated": "updated",
    "created": "created",
    "key": "key",
    "issuekey": "key",
    "id": "id",
}


class JqlError(ValueError):
    """A query Jira would refuse with 400; the message is Jira's wording."""


@dataclass(frozen=True)
class Token:
    kind: str  # word, string, op, lparen, rparen, comma, end
    text: str
    pos: int  # 1-based character, as Jira reports it


@dataclass
class Condition:
    field: str  # project, key, updated, created
    op: str  # =, !=, >, >=, <, <=, in, not in
    values: list  # project keys, issue keys, or datetimes


@dataclass
class Query:
    conditions: list[Condition] = field(default_factory=list)
    order_by: list[tuple[str, str]] = field(default_factory=list)  # (field, ASC|DESC)

    @property
    def bounded(self) -> bool:
        return bool(self.conditions)


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|>=|<=|=|>|<|~|!~)
      | (?P<lparen>\()
      | (?P<rparen>\))
      | (?P<comma>,)
      | (?P<word>[A-Za-z0-9_\-+./:*]+)
    )""",
    re.VERBOSE,
)


def tokenize(jql: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(jql):
        if jql[pos:].strip() == "":
            break
        match = _TOKEN.match(jql, pos)
        if match is None or match.end() == pos:
            start = pos + len(jql[pos:]) - len(jql[pos:].lstrip())
            char = jql[start]
            raise JqlError(
                f"Error in the JQL Query: The character '{char}' is a reserved JQL character. "
                f"You must enclose it in a string or use the escape '\\u{ord(char):04x}' "
                f"instead. (line 1, character {start + 1})"
            )
        kind = match.lastgroup or "word"
        text = match.group(kind)
        start = match.start(kind)
        if kind == "string":
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        tokens.append(Token(kind, text, start + 1))
        pos = match.end()
    tokens.append(Token("end", "", len(jql) + 1))
    return tokens


class _Parser:
    def __init__(self, jql: str, now: datetime):
        self.jql = jql
        self.now = now
        self.tokens = tokenize(jql)
        self.i = 0

    # --- helpers -----------------------------------------------------------------------

    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def next(self) -> Token:
        token = self.peek()
        self.i += 1
        return token

    def is_word(self, token: Token, *words: str) -> bool:
        return token.kind == "word" and token.text.lower() in words

    def fail_expecting(self, expected: str, token: Token) -> JqlError:
        if token.kind == "end":
            return JqlError(
                f"Error in the JQL Query: Expecting {expected} but got the end of the query."
            )
        return JqlError(
            f"Error in the JQL Query: Expecting {expected} but got '{token.text}'. "
            f"(line 1, character {token.pos})"
        )

    # --- grammar -----------------------------------------------------------------------

    def parse(self) -> Query:
        query = Query()
        if not self.is_order_by():
            query.conditions.append(self.clause())
            while True:
                token = self.peek()
                if self.is_word(token, "and"):
                    self.next()
                    query.conditions.append(self.clause())
                elif self.is_word(token, "or"):
                    raise JqlError(
                        "Error in the JQL Query: The simulator supports only AND-joined "
                        f"clauses; 'OR' is not supported. (line 1, character {token.pos})"
                    )
                else:
                    break
        if self.is_order_by():
            self.next()
            self.next()
            query.order_by.append(self.sort_key())
            while self.peek().kind == "comma":
                self.next()
                query.order_by.append(self.sort_key())
        token = self.peek()
        if token.kind != "end":
            raise self.fail_expecting("either 'OR' or 'AND'", token)
        return query

    def is_order_by(self) -> bool:
        return self.is_word(self.peek(), "order") and self.is_word(self.peek(1), "by")

    def clause(self) -> Condition:
        token = self.next()
        if token.kind == "lparen":
            raise JqlError(
                "Error in the JQL Query: parenthesised clauses are not supported by the "
                f"simulator. (line 1, character {token.pos})"
            )
        if self.is_word(token, "not"):
            raise JqlError(
                "Error in the JQL Query: 'NOT' clauses are not supported by the simulator. "
                f"(line 1, character {token.pos})"
            )
        if token.kind not in ("word", "string"):
            raise self.fail_expecting("a field name", token)
        name = token.text.lower()
        if name in ("project", "key", "issuekey"):
            return self.list_clause("key" if name == "issuekey" else name, token)
        if name in DATE_FIELDS:
            return self.date_clause(name)
        raise JqlError(
            f"Field '{token.text}' does not exist or you do not have permission to view it."
        )

    def operator(self) -> str:
        token = self.next()
        if token.kind == "op" and token.text in COMPARISONS:
            return token.text
        if self.is_word(token, "in"):
            return "in"
        if self.is_word(token, "not") and self.is_word(self.peek(), "in"):
            self.next()
            return "not in"
        if self.is_word(token, "is"):
            raise JqlError(
                "Error in the JQL Query: 'IS' / 'IS NOT' is not supported by the simulator. "
                f"(line 1, character {token.pos})"
            )
        raise self.fail_expecting("operator", token)

    def value(self) -> Token:
        token = self.next()
        if token.kind not in ("word", "string") or (
            token.kind == "word" and token.text.lower() in ("and", "or", "order", "in", "not")
        ):
            raise self.fail_expecting("either a value, list or function", token)
        if token.kind == "word" and self.peek().kind == "lparen":
            raise JqlError(
                f"Error in the JQL Query: the function '{token.text}' is not supported by the "
                f"simulator. (line 1, character {token.pos})"
            )
        return token

    def list_clause(self, name: str, field_token: Token) -> Condition:
        op = self.operator()
        if op in ("=", "!="):
            return Condition(name, op, [self.value().text])
        if op in ("in", "not in"):
            lparen = self.next()
            if lparen.kind != "lparen":
                raise self.fail_expecting("'('", lparen)
            values = [self.value().text]
            while self.peek().kind == "comma":
                self.next()
                values.append(self.value().text)
            rparen = self.next()
            if rparen.kind != "rparen":
                raise self.fail_expecting("')'", rparen)
            return Condition(name, op, values)
        raise JqlError(f"The operator '{op}' is not supported by the '{field_token.text}' field.")

    def date_clause(self, name: str) -> Condition:
        op = self.operator()
        if op not in COMPARISONS:
            raise JqlError(f"The operator '{op}' is not supported by the '{name}' field.")
        token = self.value()
        return Condition(name, op, [parse_jql_date(token.text, name, self.now)])

    def sort_key(self) -> tuple[str, str]:
        token = self.next()
        if token.kind not in ("word", "string"):
            raise self.fail_expecting("a field name", token)
        name = SORT_FIELDS.get(token.text.lower())
        if name is None:
            raise JqlError(
                f"Field '{token.text}' does not exist or you do not have permission to view it."
            )
        direction = "ASC"
        if self.is_word(self.peek(), "asc", "desc"):
            direction = self.next().text.upper()
        return name, direction


_ABSOLUTE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?$")
_RELATIVE = re.compile(r"^([-+]?)(\d+)([wdhm])$")


def parse_jql_date(raw: str, name: str, now: datetime) -> datetime:
    """A JQL date literal as naive UTC."""
    text = raw.strip()
    match = _ABSOLUTE.match(text)
    if match:
        y, mo, d, h, mi = match.groups()
        try:
            return datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0))
        except ValueError:
            pass
    match = _RELATIVE.match(text)
    if match:
        sign, amount, unit = match.groups()
        delta = {
            "w": timedelta(weeks=int(amount)),
            "d": timedelta(days=int(amount)),
            "h": timedelta(hours=int(amount)),
            "m": timedelta(minutes=int(amount)),
        }[unit]
        moment = now - delta if sign == "-" else now + delta
        return moment.replace(second=0, microsecond=0)
    raise JqlError(
        f"Date value '{raw}' for field '{name}' is invalid. Valid formats include: "
        "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
        "format e.g. '-5d', '4w 2d'."
    )


def parse(jql: str, now: datetime) -> Query:
    """Parse a JQL string; raise `JqlError` (Jira's 400) for anything outside the subset."""
    return _Parser(jql or "", now).parse()
