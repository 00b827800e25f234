"""The subset of KQL the local Log Analytics answers (pure: a parser and an evaluator).

Azure answers any KQL; the local cloud answers the shapes aigw sends (`aigw usage`'s query,
the alert rules' queries) and refuses every other query with a 400 naming what it does not
know (stricter than Azure):

    ContainerAppConsoleLogs_CL
    | where <predicate>
    | extend <name> = <expr> [, ...]
    | summarize [<name> =] <aggregation> [, ...] [by [<name> =] <expr> [, ...]]
    | project <column> [, ...]
    | order by <column> [asc|desc]                 (also sort by)
    | take <n>                                     (also limit)

    <aggregation>: count() countif(<predicate>) sum(<expr>) min(<expr>) max(<expr>) avg(<expr>)
    <expr>: literals ("text" 'text' 12 1.5 true false 5m 7d), columns, <expr>.<field>,
            ( ), + - * / %, == != =~ < <= > >=, startswith, contains, and, or, and the functions
            column_ifexists parse_json todynamic toint tolong todouble toreal tostring isnull
            isnotnull isempty isnotempty not ago now startofmonth bin real(null) long(null)
            int(null) bool(null) datetime(null)

Kusto's rules this follows, each from learn.microsoft.com/kusto/query/:
- string literals "..." or '...' with backslash escapes (scalar-data-types/string); timespan
  literals `<n>d|h|m|s|ms` and their long forms (scalar-data-types/timespan);
- `==` is case-sensitive, `=~`, `startswith` and `contains` are not (datatypes-string-operators);
- integers (int, long) combine to long and divide to a truncated integer, a real operand makes
  the result real (numerical-operators); a string column is never null, it holds "" (scalar-data-
  types/null-values: "string ... can't be null"); a comparison with null is null and `where` keeps
  the rows whose predicate is true; `and`/`or` are the three-valued logic of null-values;
- parse_json: a string that is not JSON becomes a dynamic holding that string (parse-json-
  function); a field of a dynamic value that is not a property bag is null;
- toint/tolong/todouble/tostring: null when the value cannot be converted; tostring(null) is ""
  (tostring-function);
- summarize: without `by`, an empty input gives one row, with `by` none; count, countif and sum
  are 0 over no rows, the others null (summarize-operator, "Default values of aggregations");
  default column names count_, countif_, sum_<column>, min_<column>, max_<column>, avg_<column>,
  and a `by` column or `bin(<column>, ...)` keeps the column's name;
- bin(value, size): rounds down to a multiple of size (bin-function); startofmonth (startofmonth-
  function); ago(span) is now() - span (ago-function).

Stricter than Azure, where the docs leave a case open or the rules need nothing more: a dynamic
value is not compared or summed as is (convert it with to*() first: Azure accepts some of it);
an unnamed `extend` or `summarize by` expression (Azure names it Column1) is refused; a column an
`extend` defines is not visible to the other expressions of the same `extend`; a division by
zero is a 400 (the docs say nothing of it); strings are not ordered with < or >.

The answer's columns carry Log Analytics' type names (int, long, real, string, bool, datetime,
timespan, dynamic, guid); a dynamic value is answered as its JSON text, as the query API
returns dynamic columns (not verified against Azure: chosen here).

String literals are KQL's; `column_ifexists` is learn.microsoft.com/kusto/query/column-ifexists-
function (the column, or the default where the table has no such column). The table and its
columns are Container Apps' console logs sent to a Log Analytics workspace
(`ContainerAppConsoleLogs_CL`, learn.microsoft.com/azure/container-apps/log-monitoring; string
columns end in `_s`), plus the `Log_<key>_<type>` columns of an environment with
dynamicJsonColumns (console_logs.py, log_analytics.py).

Parsing checks the syntax only; names are resolved when the query runs, against the columns each
stage has (the table's first: `run(schema=...)`), before any row is read: a name the stage does
not have is Azure's semantic error SEM0100 "'<operator>' operator: Failed to resolve scalar
expression named '<name>'" (`SemanticError`, answered as Azure answers it by log_analytics.py;
microsoft/azure-container-apps#1018 shows it for a ContainerAppConsoleLogs_CL column).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

TABLE = "ContainerAppConsoleLogs_CL"
# column -> Log Analytics type (the query API's `columns[].type`): the columns every row has
COLUMNS: dict[str, str] = {
    "TimeGenerated": "datetime",
    "ContainerAppName_s": "string",
    "EnvironmentName_s": "string",
    "RevisionName_s": "string",
    "ContainerName_s": "string",
    "ContainerImage_s": "string",
    "ContainerGroupName_s": "string",
    "Stream_s": "string",
    "Log_s": "string",
    "_ResourceId": "string",
    "Type": "string",
}
SUPPORTED = (
    f"{TABLE} | where <predicate> | extend <name> = <expr> | summarize [<name> =] count()|"
    "countif()|sum()|min()|max()|avg() [by <name> = <expr>] | project <columns> | order by "
    "<column> asc|desc | take <n>"
)
_STRING = r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\''
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_SPAN_UNITS = {
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hrs": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "m": 60.0,
    "min": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "ms": 0.001,
    "milli": 0.001,
    "millis": 0.001,
    "millisecond": 0.001,
    "milliseconds": 0.001,
}
_TOKEN = re.compile(
    r"\s*(?:(?P<str>" + _STRING + r")"
    r"|(?P<span>\d+(?:\.\d+)?(?:" + "|".join(sorted(_SPAN_UNITS, key=len, reverse=True)) + r"))"
    r"(?![A-Za-z0-9_])"
    r"|(?P<num>\d+\.\d+|\d+)(?![A-Za-z0-9_])"
    r"|(?P<name>" + _NAME + r")"
    r"|(?P<op>==|!=|=~|<=|>=|[-+*/%<>().,=]))"
)
_BLANK = re.compile(r"\s*\Z")
NUMERIC = ("int", "long", "real")
Row = Mapping[str, Any]
Schema = Mapping[str, str]  # column -> type: the table's columns when the query runs


class KqlError(ValueError):
    """A query outside the subset; the message says which part and what is supported."""


class SemanticError(KqlError):
    """A name the table does not resolve: Azure's SEM0100, `'<operator>' operator: Failed to
    resolve <what> named '<name>'`."""

    def __init__(self, operator: str, what: str, name: str) -> None:
        self.operator, self.what, self.name = operator, what, name
        super().__init__(f"'{operator}' operator: Failed to resolve {what} named '{name}'")


class _Syntax(KqlError):
    """A stage that does not parse (reworded by the stage that holds it)."""


@dataclass(frozen=True)
class Dyn:
    """A value of type dynamic (parse_json's result, a field of one)."""

    value: Any


# ------------------------------------------------------------------------------ the parser
@dataclass(frozen=True)
class Node:
    pass


@dataclass(frozen=True)
class Lit(Node):
    value: Any
    type: str


@dataclass(frozen=True)
class Col(Node):
    name: str


@dataclass(frozen=True)
class Call(Node):
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Member(Node):
    base: Node
    name: str


@dataclass(frozen=True)
class Bin(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Neg(Node):
    operand: Node


def _unquote(literal: str) -> str:
    body = literal[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(text):
        if _BLANK.match(text, i):
            break
        m = _TOKEN.match(text, i)
        if m is None or m.end() == i:
            raise _Syntax(f"cannot read {text[i:].strip()[:20]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        i = m.end()
    return out


class _Parser:
    """A recursive-descent parser of one expression list (precedence: or < and < comparison <
    + - < * / % < unary minus < .field)."""

    COMPARE = ("==", "!=", "=~", "<", "<=", ">", ">=", "startswith", "contains")

    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, ahead: int = 0) -> tuple[str, str]:
        j = self.i + ahead
        return self.toks[j] if j < len(self.toks) else ("end", "")

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        self.i += 1
        return tok

    def word(self, *words: str) -> bool:
        kind, text = self.peek()
        return kind == "name" and text in words

    def expect(self, text: str) -> None:
        kind, got = self.take()
        if got != text or kind not in ("op", "name"):
            raise _Syntax(f"expected '{text}', found '{got or 'the end'}'")

    def done(self) -> bool:
        return self.peek()[0] == "end"

    def assignments(self, *, names_required: bool) -> list[tuple[str | None, Node]]:
        """`[name =] expr, ...` up to the end or the word `by`."""
        out: list[tuple[str | None, Node]] = []
        while True:
            name = None
            if self.peek()[0] == "name" and self.peek(1) == ("op", "="):
                name = self.take()[1]
                self.take()
            elif names_required:
                raise _Syntax("give each expression a name: <name> = <expr>")
            out.append((name, self.expr()))
            if self.peek() == ("op", ","):
                self.take()
                continue
            return out

    def expr(self) -> Node:
        left = self.and_()
        while self.word("or"):
            self.take()
            left = Bin("or", left, self.and_())
        return left

    def and_(self) -> Node:
        left = self.compare()
        while self.word("and"):
            self.take()
            left = Bin("and", left, self.compare())
        return left

    def compare(self) -> Node:
        left = self.add()
        kind, text = self.peek()
        if (kind == "op" and text in self.COMPARE) or (kind == "name" and text in self.COMPARE):
            self.take()
            return Bin(text, left, self.add())
        return left

    def add(self) -> Node:
        left = self.mul()
        while self.peek() in (("op", "+"), ("op", "-")):
            left = Bin(self.take()[1], left, self.mul())
        return left

    def mul(self) -> Node:
        left = self.unary()
        while self.peek() in (("op", "*"), ("op", "/"), ("op", "%")):
            left = Bin(self.take()[1], left, self.unary())
        return left

    def unary(self) -> Node:
        if self.peek() == ("op", "-"):
            self.take()
            return Neg(self.unary())
        node = self.primary()
        while self.peek() == ("op", "."):
            self.take()
            kind, name = self.take()
            if kind != "name":
                raise _Syntax(f"expected a field name after '.', found '{name}'")
            node = Member(node, name)
        return node

    def primary(self) -> Node:
        kind, text = self.take()
        if kind == "str":
            return Lit(_unquote(text), "string")
        if kind == "num":
            return Lit(float(text), "real") if "." in text else Lit(int(text), "long")
        if kind == "span":
            m = re.fullmatch(r"(\d+(?:\.\d+)?)([a-z]+)", text)
            assert m is not None
            return Lit(timedelta(seconds=float(m.group(1)) * _SPAN_UNITS[m.group(2)]), "timespan")
        if kind == "op" and text == "(":
            node = self.expr()
            self.expect(")")
            return node
        if kind == "name":
            if text in ("true", "false"):
                return Lit(text == "true", "bool")
            if self.peek() == ("op", "("):
                self.take()
                args: list[Node] = []
                if self.peek() != ("op", ")"):
                    while True:
                        if self.word("null") and text in _TYPED_NULL:
                            self.take()
                            args.append(Lit(None, _TYPED_NULL[text]))
                        else:
                            args.append(self.expr())
                        if self.peek() != ("op", ","):
                            break
                        self.take()
                self.expect(")")
                return Call(text, tuple(args))
            return Col(text)
        raise _Syntax(f"unexpected '{text or 'end of the query'}'")


_TYPED_NULL = {
    "real": "real",
    "double": "real",
    "long": "long",
    "int": "int",
    "bool": "bool",
    "datetime": "datetime",
    "string": "string",
}


def _parse_expr_list(text: str, *, names_required: bool) -> list[tuple[str | None, Node]]:
    p = _Parser(text)
    out = p.assignments(names_required=names_required)
    if not p.done():
        raise _Syntax(f"unexpected '{p.peek()[1]}'")
    return out


# --------------------------------------------------------------------------- the evaluator
Fn = Callable[[Row, "Ctx"], Any]


@dataclass(frozen=True)
class Ctx:
    now: datetime


@dataclass(frozen=True)
class Typed:
    fn: Fn
    type: str


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _iso(value: datetime) -> str:
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + "Z"


def _as_time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return parse_time(str(value))
    except ValueError:
        return None


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Dyn) else value


def _to_number(value: Any, kind: str) -> Any:
    value = _plain(value)
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value) if kind == "real" else int(value)
    try:
        number = float(value) if isinstance(value, int | float) else float(str(value).strip())
    except ValueError:
        return None
    if math.isnan(number) or math.isinf(number):
        return None if kind != "real" else number
    return number if kind == "real" else int(number)


def _to_string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Dyn):
        inner = value.value
        if inner is None:
            return ""
        if isinstance(inner, str):
            return inner
        return json.dumps(inner, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return _iso(value)
    return str(value)


def _parse_json(value: Any) -> Any:
    if isinstance(value, Dyn):
        return value
    if value is None:
        return None
    try:
        return Dyn(json.loads(value))
    except (TypeError, ValueError):
        return Dyn(value)


def _member(value: Any, name: str) -> Any:
    inner = value.value if isinstance(value, Dyn) else None
    if isinstance(inner, dict) and inner.get(name) is not None:
        return Dyn(inner[name])
    return None


def _family(kind: str) -> str:
    return {"int": "number", "long": "number", "real": "number", "guid": "string"}.get(kind, kind)


def _arith_type(op: str, a: str, b: str) -> str:
    if a in NUMERIC and b in NUMERIC:
        return "real" if "real" in (a, b) else "long"
    if op in ("+", "-") and a == "datetime" and b == "timespan":
        return "datetime"
    if op == "-" and a == "datetime" and b == "datetime":
        return "timespan"
    if op in ("+", "-") and a == b == "timespan":
        return "timespan"
    raise KqlError(f"unsupported arithmetic: {a} {op} {b}")


def _arith(op: str, kind: str, a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        raise KqlError(f"division by zero ({a} {op} {b}): the local cloud does not guess Azure's")
    if kind == "long":
        quotient = abs(a) // abs(b)
        signed = quotient if (a >= 0) == (b >= 0) else -quotient
        return signed if op == "/" else a - signed * b
    return a / b if op == "/" else math.fmod(a, b)


def _compare(op: str, a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if op == "==":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    if op == "=~":
        return bool(str(a).lower() == str(b).lower())
    if op == "startswith":
        return str(a).lower().startswith(str(b).lower())
    if op == "contains":
        return str(b).lower() in str(a).lower()
    return bool({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op])


def _and(a: Any, b: Any) -> Any:
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def _or(a: Any, b: Any) -> Any:
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def _bin(value: Any, size: Any) -> Any:
    if value is None or size is None:
        return None
    if isinstance(value, datetime):
        step = size.total_seconds()
        if step <= 0:
            raise KqlError("bin(): the size must be positive")
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        seconds = math.floor((value - epoch).total_seconds() / step) * step
        return epoch + timedelta(seconds=seconds)
    if size <= 0:
        raise KqlError("bin(): the size must be positive")
    return math.floor(value / size) * size


class _Compiler:
    """Turns an expression into (row, ctx) -> value with its type, against one stage's
    columns; a name the stage does not have is `SemanticError`."""

    def __init__(self, schema: Schema, operator: str) -> None:
        self.schema = schema
        self.operator = operator

    def compile(self, node: Node) -> Typed:
        if isinstance(node, Lit):
            value = node.value
            return Typed(lambda row, ctx: value, node.type)
        if isinstance(node, Col):
            return self.column(node.name)
        if isinstance(node, Member):
            base = self.compile(node.base)
            if base.type != "dynamic":
                raise KqlError(
                    f"'.{node.name}' reads a field of a dynamic value (parse_json), not of a "
                    f"{base.type}"
                )
            name = node.name
            return Typed(lambda row, ctx: _member(base.fn(row, ctx), name), "dynamic")
        if isinstance(node, Neg):
            inner = self.compile(node.operand)
            if inner.type not in (*NUMERIC, "timespan"):
                raise KqlError(f"unsupported: minus of a {inner.type}")
            return Typed(
                lambda row, ctx: None if (v := inner.fn(row, ctx)) is None else -v, inner.type
            )
        if isinstance(node, Bin):
            return self.binary(node)
        if isinstance(node, Call):
            return self.call(node)
        raise KqlError(f"unsupported expression {node!r}")

    def column(self, name: str) -> Typed:
        if name not in self.schema:
            raise SemanticError(self.operator, "scalar expression", name)
        kind = self.schema[name]
        if kind == "string":
            return Typed(lambda row, ctx: _to_string(row.get(name)), kind)
        if kind == "datetime":
            return Typed(lambda row, ctx: _as_time(row.get(name)), kind)
        return Typed(lambda row, ctx: row.get(name), kind)

    def predicate(self, node: Node) -> Typed:
        typed = self.compile(node)
        if typed.type != "bool":
            raise KqlError(
                f"'{self.operator}' needs a true/false condition, not a {typed.type} value"
            )
        return typed

    def binary(self, node: Bin) -> Typed:
        op = node.op
        if op in ("and", "or"):
            a, b = self.predicate(node.left), self.predicate(node.right)
            join = _and if op == "and" else _or
            return Typed(lambda row, ctx: join(a.fn(row, ctx), b.fn(row, ctx)), "bool")
        left, right = self.compile(node.left), self.compile(node.right)
        if op in ("+", "-", "*", "/", "%"):
            kind = _arith_type(op, left.type, right.type)
            return Typed(
                lambda row, ctx: _arith(op, kind, left.fn(row, ctx), right.fn(row, ctx)), kind
            )
        if "dynamic" in (left.type, right.type):
            raise KqlError(
                f"cannot compare a dynamic value with '{op}': convert it first with tostring(), "
                "toint(), tolong() or todouble()"
            )
        fam = (_family(left.type), _family(right.type))
        if op in ("=~", "startswith", "contains") and fam != ("string", "string"):
            raise KqlError(f"'{op}' compares strings, not {left.type} and {right.type}")
        if fam[0] != fam[1]:
            raise KqlError(f"cannot compare {left.type} with {right.type} using '{op}'")
        if op in ("<", "<=", ">", ">=") and fam[0] not in ("number", "datetime", "timespan"):
            raise KqlError(f"'{op}' orders numbers, times and timespans, not {left.type}")
        return Typed(lambda row, ctx: _compare(op, left.fn(row, ctx), right.fn(row, ctx)), "bool")

    def call(self, node: Call) -> Typed:
        name, args = node.name, node.args
        if name == "column_ifexists":
            if len(args) != 2 or not isinstance(args[0], Lit) or args[0].type != "string":
                raise KqlError('column_ifexists("<column>", <default>) takes a name and a value')
            column = str(args[0].value)
            if column in self.schema:
                return self.column(column)
            return self.compile(args[1])
        typed_null = len(args) == 1 and isinstance(args[0], Lit) and args[0].value is None
        if name in _TYPED_NULL and typed_null:
            return Typed(lambda row, ctx: None, _TYPED_NULL[name])
        if name in ("now",):
            self.arity(node, 0)
            return Typed(lambda row, ctx: ctx.now, "datetime")
        if name in ("ago",):
            self.arity(node, 1)
            span = self.compile(args[0])
            if span.type != "timespan":
                raise KqlError("ago() takes a timespan such as 15m or 7d")
            return Typed(lambda row, ctx: ctx.now - span.fn(row, ctx), "datetime")
        if name == "bin":
            self.arity(node, 2)
            value, size = self.compile(args[0]), self.compile(args[1])
            ok = (value.type == "datetime" and size.type == "timespan") or (
                value.type in NUMERIC and size.type in NUMERIC
            )
            if not ok:
                raise KqlError(f"bin() of a {value.type} by a {size.type} is not supported")
            return Typed(lambda row, ctx: _bin(value.fn(row, ctx), size.fn(row, ctx)), value.type)
        one = self.unary_functions()
        if name in one:
            self.arity(node, 1)
            arg = self.compile(args[0])
            fn, kind, accepts = one[name]
            if accepts and arg.type not in accepts:
                raise KqlError(f"{name}() takes a {' or '.join(accepts)}, not a {arg.type}")
            return Typed(lambda row, ctx: fn(arg.fn(row, ctx)), kind)
        if name in AGGREGATIONS:
            raise KqlError(f"{name}() is an aggregation: use it in summarize")
        raise KqlError(f"unsupported function '{name}' (supported: {SUPPORTED})")

    @staticmethod
    def arity(node: Call, n: int) -> None:
        if len(node.args) != n:
            raise KqlError(f"{node.name}() takes {n} argument(s), not {len(node.args)}")

    @staticmethod
    def unary_functions() -> dict[str, tuple[Callable[[Any], Any], str, tuple[str, ...]]]:
        def month_start(v: Any) -> Any:
            return None if v is None else datetime(v.year, v.month, 1, tzinfo=UTC)

        return {
            "parse_json": (_parse_json, "dynamic", ("string", "dynamic")),
            "todynamic": (_parse_json, "dynamic", ("string", "dynamic")),
            "toint": (lambda v: _to_number(v, "int"), "int", ()),
            "tolong": (lambda v: _to_number(v, "long"), "long", ()),
            "todouble": (lambda v: _to_number(v, "real"), "real", ()),
            "toreal": (lambda v: _to_number(v, "real"), "real", ()),
            "tostring": (_to_string, "string", ()),
            "isnull": (lambda v: _plain(v) is None, "bool", ()),
            "isnotnull": (lambda v: _plain(v) is not None, "bool", ()),
            "isempty": (lambda v: _plain(v) in (None, ""), "bool", ()),
            "isnotempty": (lambda v: _plain(v) not in (None, ""), "bool", ()),
            "not": (lambda v: None if v is None else not v, "bool", ("bool",)),
            "startofmonth": (month_start, "datetime", ("datetime",)),
        }


# ---------------------------------------------------------------------------- the stages
@dataclass(frozen=True)
class Agg:
    fn: str  # count, countif, sum, min, max, avg
    arg: Node | None


AGGREGATIONS = ("count", "countif", "sum", "min", "max", "avg")
Rows = list[dict[str, Any]]
Runner = Callable[[Rows, Ctx], Rows]


@dataclass(frozen=True)
class Stage:
    operator: str  # as Azure's errors name it
    text: str

    def compile(self, schema: dict[str, str]) -> tuple[Runner, dict[str, str]]:
        raise NotImplementedError


@dataclass(frozen=True)
class Where(Stage):
    predicate: Node

    def compile(self, schema: dict[str, str]) -> tuple[Runner, dict[str, str]]:
        test = _Compiler(schema, "where").predicate(self.predicate)
        return (lambda rows, ctx: [r for r in rows if test.fn(r, ctx) is True]), schema


@dataclass(frozen=True)
class Extend(Stage):
    columns: tuple[tuple[str, Node], ...]

    def compile(self, schema: dict[str, str]) -> tuple[Runner, dict[str, str]]:
        compiler = _Compiler(schema, "extend")
        made = [(name, compiler.compile(node)) for name, node in self.columns]
        out = dict(schema)
        for name, typed in made:
            out[name] = typed.type

        def run(rows: Rows, ctx: Ctx) -> Rows:
            return [{**r, **{name: t.fn(r, ctx) for name, t in made}} for r in rows]

        return run, out


@dataclass(frozen=True)
class Summarize(Stage):
    aggs: tuple[tuple[str, Agg], ...]
    by: tuple[tuple[str, Node], ...]

    def compile(self, schema: dict[str, str]) -> tuple[Runner, dict[str, str]]:
        compiler = _Compiler(schema, "summarize")
        keys = [(name, compiler.compile(node)) for name, node in self.by]
        aggs: list[tuple[str, str, Typed | None]] = []
        out: dict[str, str] = {name: t.type for name, t in keys}
        for name, agg in self.aggs:
            arg = None
            if agg.fn == "countif":
                arg = compiler.predicate(agg.arg) if agg.arg is not None else None
            elif agg.arg is not None:
                arg = compiler.compile(agg.arg)
                if arg.type not in (*NUMERIC, "datetime", "timespan") or (
                    agg.fn in ("sum", "avg") and arg.type not in NUMERIC
                ):
                    raise KqlError(
                        f"{agg.fn}() of a {arg.type} value: convert it first (toint(), todouble())"
                    )
            kind = {"count": "long", "countif": "long", "avg": "real"}.get(agg.fn)
            if kind is None:
                assert arg is not None
                kind = ("real" if arg.type == "real" else "long") if agg.fn == "sum" else arg.type
            aggs.append((name, agg.fn, arg))
            out[name] = kind

        def run(rows: Rows, ctx: Ctx) -> Rows:
            groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
            for r in rows:
                groups.setdefault(tuple(t.fn(r, ctx) for _, t in keys), []).append(r)
            if not keys and not groups:
                groups[()] = []  # summarize-operator: no `by`, empty input -> one row
            result = []
            for values, members in groups.items():
                row: dict[str, Any] = dict(zip([n for n, _ in keys], values, strict=True))
                for name, fn, arg in aggs:
                    row[name] = _aggregate(fn, arg, members, ctx)
                result.append(row)
            return result

        return run, out


def _aggregate(fn: str, arg: Typed | None, rows: Rows, ctx: Ctx) -> Any:
    if fn == "count":
        return len(rows)
    assert arg is not None
    values = [arg.fn(r, ctx) for r in rows]
    if fn == "countif":
        return sum(1 for v in values if v is True)
    present = [v for v in values if v is not None]
    if fn == "sum":
        return sum(present) if present else 0
    if not present:
        return None
    if fn == "min":
        return min(present)
    if fn == "max":
        return max(present)
    return sum(present) / len(present)


@dataclass(frozen=True)
class Project(Stage):
    names: tuple[str, ...]

    def compile(self, schema: dict[str, str]) -> tuple[Runner, dict[str, str]]:
        for n in self.names:
            if n not in schema:
                raise SemanticError("project", "scalar expression", n)
        out = {n: schema[n] for n in self.names}
        names = self.names
        return (lambda rows, ctx: [{n: r.get(n) for n in names} for r in rows]), out


@dataclass(frozen=True)
class Order(Stage):
    column: str
    descending: bool

    def compile(self, schema: dict[str, str]) -> tuple[Runner, dict[str, str]]:
        column = _Compiler(schema, "order").column(self.column)

        def run(rows: Rows, ctx: Ctx) -> Rows:
            present = [r for r in rows if column.fn(r, ctx) is not None]
            missing = [r for r in rows if column.fn(r, ctx) is None]
            present.sort(key=lambda r: column.fn(r, ctx), reverse=self.descending)
            return present + missing  # nulls last (learn.microsoft.com/kusto/query/sort-operator)

        return run, schema


@dataclass(frozen=True)
class Take(Stage):
    count: int

    def compile(self, schema: dict[str, str]) -> tuple[Runner, dict[str, str]]:
        n = self.count
        return (lambda rows, ctx: rows[:n]), schema


@dataclass
class Query:
    stages: list[Stage] = field(default_factory=list)
    first_operator: str = "table"  # the operator after the table, as Azure's errors name it


def _split_outside_strings(text: str, sep: str) -> list[str]:
    """`text` split at `sep` (a regex) where it is not inside a string literal."""
    parts, start, i = [], 0, 0
    string, separator = re.compile(_STRING), re.compile(sep)
    while i < len(text):
        m = string.match(text, i)
        if m:
            i = m.end()
            continue
        s = separator.match(text, i)
        if s and s.end() > i:
            parts.append(text[start:i].strip())
            start = i = s.end()
            continue
        i += 1
    parts.append(text[start:].strip())
    return parts


def _aggregations(text: str) -> tuple[tuple[tuple[str, Agg], ...], tuple[tuple[str, Node], ...]]:
    parts = _split_outside_strings(text, r"\s+by\s+")
    if len(parts) > 2:
        raise _Syntax("one 'by' at most")
    aggs: list[tuple[str, Agg]] = []
    for name, node in _parse_expr_list(parts[0], names_required=False) if parts[0] else []:
        if not isinstance(node, Call):
            raise _Syntax("summarize takes aggregations such as count() or countif(<predicate>)")
        if node.name not in AGGREGATIONS:
            raise KqlError(f"unsupported aggregation '{node.name}' (supported: {SUPPORTED})")
        if node.name == "count" and node.args:
            raise _Syntax("count() takes no argument")
        if node.name != "count" and len(node.args) != 1:
            raise _Syntax(f"{node.name}() takes one argument")
        arg = node.args[0] if node.args else None
        default = node.name + "_"
        if node.name not in ("count", "countif") and isinstance(arg, Col):
            default = f"{node.name}_{arg.name}"
        aggs.append((name or default, Agg(node.name, arg)))
    by: list[tuple[str, Node]] = []
    if len(parts) == 2:
        for name, node in _parse_expr_list(parts[1], names_required=False):
            if name is None and isinstance(node, Col):
                name = node.name
            elif (
                name is None
                and isinstance(node, Call)
                and node.name == "bin"
                and node.args
                and isinstance(node.args[0], Col)
            ):
                name = node.args[0].name
            if name is None:
                raise _Syntax("name each 'by' expression: by <name> = <expr>")
            by.append((name, node))
    if not aggs and not by:
        raise _Syntax("summarize needs an aggregation or a 'by'")
    return tuple(aggs), tuple(by)


def _stage(stage: str) -> Stage:
    word = stage.split(" ", 1)[0]
    rest = stage[len(word) :].strip()
    try:
        if word == "where":
            ((name, node),) = _parse_expr_list(rest, names_required=False)
            if name is not None:
                raise _Syntax("'=' is not a comparison: use '=='")
            return Where("where", stage, node)
        if word == "extend":
            columns = _parse_expr_list(rest, names_required=True)
            return Extend("extend", stage, tuple((str(n), e) for n, e in columns))
        if word == "summarize":
            aggs, by = _aggregations(rest)
            return Summarize("summarize", stage, aggs, by)
    except _Syntax as exc:
        what = "filter" if word == "where" else "stage"
        raise KqlError(f"unsupported {what} '{stage}': {exc} (supported: {SUPPORTED})") from None
    except ValueError as exc:  # more than one expression after where
        if isinstance(exc, KqlError):
            raise
        raise KqlError(f"unsupported filter '{stage}' (supported: {SUPPORTED})") from None
    if word == "project":
        names = [n.strip() for n in rest.split(",")]
        if not names or not all(re.fullmatch(_NAME, n) for n in names):
            raise KqlError(f"unsupported '{stage}' (project <column>, <column>)")
        return Project("project", stage, tuple(names))
    if word in ("order", "sort"):
        m = re.fullmatch(r"(?:order|sort)\s+by\s+(" + _NAME + r")(?:\s+(asc|desc))?", stage)
        if not m:
            raise KqlError(f"unsupported '{stage}' (only: order by <column> asc|desc)")
        # KQL sorts descending by default (learn.microsoft.com/kusto/query/sort-operator)
        return Order("order", stage, m.group(1), (m.group(2) or "desc") == "desc")
    if word in ("take", "limit"):
        m = re.fullmatch(r"(?:take|limit)\s+(\d+)", stage)
        if not m:
            raise KqlError(f"unsupported '{stage}' (take <n>)")
        return Take("take", stage, int(m.group(1)))
    raise KqlError(f"unsupported operator '{word}' (supported: {SUPPORTED})")


def parse(text: str) -> Query:
    """The query as data, or KqlError naming the first part outside the subset."""
    if not isinstance(text, str) or not text.strip():
        raise KqlError("the query is empty")
    stages = _split_outside_strings(" ".join(text.split()), r"\|")
    if stages[0] != TABLE:
        raise KqlError(f"unknown table '{stages[0]}': the local cloud has only {TABLE}")
    q = Query()
    for i, text_ in enumerate(stages[1:]):
        stage = _stage(text_)
        if i == 0:
            q.first_operator = stage.operator
        q.stages.append(stage)
    return q


def timespan_start(timespan: str | None, now: datetime) -> datetime | None:
    """The start of an ISO 8601 duration timespan (`P7D`, `PT12H`, `P1DT2H`) before `now`, or
    of `<start>/<end>`; None when absent. Azure's query API takes both (spec: stable/v1
    OperationalInsights.json, `timespan`)."""
    if not timespan:
        return None
    if "/" in timespan:
        start = timespan.split("/", 1)[0]
        try:
            return parse_time(start)
        except ValueError:
            pass
    m = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", timespan)
    if not m or not any(m.groups()):
        raise KqlError(f"timespan '{timespan}' is not an ISO 8601 duration (e.g. P7D, PT12H)")
    d, h, mi, s = (float(g or 0) for g in m.groups())
    return now - timedelta(days=d, hours=h, minutes=mi, seconds=s)


def _cell(value: Any) -> Any:
    """A value as the query API's JSON carries it."""
    if isinstance(value, Dyn):
        inner = value.value
        return inner if isinstance(inner, str) else json.dumps(inner, separators=(",", ":"))
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, timedelta):
        total = int(value.total_seconds())
        sign = "-" if total < 0 else ""
        total = abs(total)
        days, rest = divmod(total, 86400)
        text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
        return f"{sign}{days}.{text}" if days else f"{sign}{text}"
    return value


def run(
    query: Query,
    rows: Iterable[Row],
    *,
    now: datetime | None = None,
    since: datetime | None = None,
    schema: Schema | None = None,
) -> dict[str, Any]:
    """The query API's answer body: one table `PrimaryResult` with typed columns and rows.
    `schema`: the table's columns (default: COLUMNS). Every stage is compiled against the
    columns it receives before a row is read: a name it lacks (and not through
    column_ifexists) is a SemanticError."""
    ctx = Ctx(now or datetime.now(UTC))
    columns: dict[str, str] = dict(schema if schema is not None else COLUMNS)
    runners: list[Runner] = []
    for stage in query.stages:
        runner, columns = stage.compile(columns)
        runners.append(runner)
    picked: Rows = [
        dict(r) for r in rows if since is None or parse_time(str(r["TimeGenerated"])) >= since
    ]
    for runner in runners:
        picked = runner(picked, ctx)
    names = list(columns)
    return {
        "tables": [
            {
                "name": "PrimaryResult",
                "columns": [{"name": c, "type": columns[c]} for c in names],
                "rows": [[_cell(r.get(c)) for c in names] for r in picked],
            }
        ]
    }
