"""Check a parameter value the way CloudFormation will at launch, so the form refuses it first.

Semantics (CloudFormation's "Parameters" documentation):
- AllowedPattern must match the WHOLE value (Java's String.matches), per member for list types;
  patterns are Java regexes, translated for Python's `regex` where the two differ (java_pattern()).
- MinLength/MaxLength count characters; MinValue/MaxValue apply to Number (and List<Number>
  members); AllowedValues is an exact string match, per member for list types.
- List types (CommaDelimitedList, List<…>) split on commas; CloudFormation trims each member.
- A ConstraintDescription, when set, is the message for pattern/length/range/allowed failures.
- An empty value means "use the Default"; with no Default a value is required.
"""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# The `regex` module (a cfn-lint dependency) rather than `re`: it has Unicode properties (\p{L})
# like Java, and a timeout, so a catastrophic pattern cannot stall a web request.
import regex

from .parameter_spec import ParameterSpec

# CloudFormation's quota for one parameter value. Also bounds the work a (hostile) pattern can do.
MAX_VALUE_BYTES = 4096
PATTERN_TIMEOUT = 1.0  # seconds of wall time for all pattern matching of one value (a busy machine included)
# What Java's Double/BigDecimal-style parsing accepts; Python's float() would also take
# "nan", "inf", "1_000" and surrounding spaces.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


class PatternError(ValueError):
    """An AllowedPattern that Python cannot check as Java would."""


@dataclass(frozen=True)
class Failure:
    kind: str  # "required" | "size" | "number" | "pattern" | "timeout" | "length" | "range" | "allowed"
    message: str  # generic, without the parameter's ConstraintDescription

    # Kinds whose message the ConstraintDescription replaces (CloudFormation's "failed to satisfy constraint").
    @property
    def constrained(self) -> bool:
        return self.kind in ("pattern", "length", "range", "allowed")


def validate_value(spec: ParameterSpec, value: str | None) -> list[str]:
    """Messages for why CloudFormation would refuse `value` for this parameter; [] if it is fine."""
    out: list[str] = []
    described = (spec.constraint_description or "").strip()
    for failure in check_value(spec, value):
        message = described if described and failure.constrained else failure.message
        if message not in out:
            out.append(message)
    return out


def check_value(spec: ParameterSpec, value: str | None) -> list[Failure]:
    """The failures, with generic messages (find_defects checks Defaults with this too)."""
    if value is None or value == "":
        if spec.default is None:
            return [Failure("required", "A value is required.")]
        value = spec.default  # CloudFormation uses, and checks, the Default
    if len(value.encode("utf-8", "surrogatepass")) > MAX_VALUE_BYTES:
        return [Failure("size", f"The value is longer than CloudFormation's limit of {MAX_VALUE_BYTES} bytes.")]
    members = split_list(value) if spec.is_list else [value]
    failures: list[Failure] = []
    deadline = time.monotonic() + PATTERN_TIMEOUT  # for all members together
    for member in members:
        for failure in _check_one(spec, member, in_list=spec.is_list, deadline=deadline):
            if failure not in failures:
                failures.append(failure)
    return failures


def _check_one(spec: ParameterSpec, value: str, *, in_list: bool, deadline: float) -> list[Failure]:
    out: list[Failure] = []
    what = "The value" if not in_list else "A member" if spec.no_echo else repr(value)
    if spec.is_number:
        number = parse_number(value)
        if number is None:
            return [Failure("number", f"{what} is not a number.")]
        if spec.min_value is not None and number < Decimal(str(spec.min_value)):
            out.append(Failure("range", f"{what} must be at least {spec.min_value}."))
        if spec.max_value is not None and number > Decimal(str(spec.max_value)):
            out.append(Failure("range", f"{what} must be at most {spec.max_value}."))
    else:
        if spec.min_length is not None and len(value) < spec.min_length:
            out.append(Failure("length", f"{what} must be at least {spec.min_length} characters long."))
        if spec.max_length is not None and len(value) > spec.max_length:
            out.append(Failure("length", f"{what} must be at most {spec.max_length} characters long."))
    if spec.allowed_pattern is not None:
        out += _pattern_failures(spec.allowed_pattern, value, what, deadline)
    if spec.allowed_values and value not in spec.allowed_values:
        out.append(Failure("allowed", f"{what} must be one of: {', '.join(spec.allowed_values)}."))
    return out


def _pattern_failures(allowed_pattern: str, value: str, what: str, deadline: float) -> list[Failure]:
    try:
        pattern = java_pattern(allowed_pattern)
    except PatternError:
        return []  # reported as a template defect; CloudFormation still checks it at launch
    try:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        if pattern.fullmatch(value, timeout=left) is None:
            return [Failure("pattern", f"{what} must match the pattern {allowed_pattern}.")]
    except TimeoutError:
        # not "pattern": the ConstraintDescription would say the value is wrong, and it may well be right
        return [Failure("timeout", f"The value could not be checked against the pattern {allowed_pattern} in time.")]
    return []


def split_list(value: str) -> list[str]:
    return [member.strip() for member in value.split(",")]


def parse_number(value: str) -> Decimal | None:
    if not _NUMBER.fullmatch(value):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def coerce(spec: ParameterSpec, value: str | None) -> str | list[str]:
    """The value as the rules engine sees it: the Default when empty, a list for list types.

    Numbers stay strings: CloudFormation hands a Number parameter to the template (Ref) as a string.
    """
    if value is None or value == "":
        value = spec.default if spec.default is not None else ""
    if spec.is_list:
        return split_list(value) if value != "" else []
    return value


# Java's POSIX classes (ASCII-only unless UNICODE_CHARACTER_CLASS), as class contents.
_POSIX = {
    "Lower": "a-z", "Upper": "A-Z", "ASCII": "\\x00-\\x7f", "Alpha": "a-zA-Z", "Digit": "0-9",
    "Alnum": "a-zA-Z0-9", "Punct": "\\x21-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7e",
    "Graph": "\\x21-\\x7e", "Print": "\\x20-\\x7e", "Blank": " \\t", "Cntrl": "\\x00-\\x1f\\x7f",
    "XDigit": "0-9a-fA-F", "Space": " \\t\\n\\x0b\\f\\r",
}
_JAVA_DOT = "[^\\n\\r\\x85\\u2028\\u2029]"  # Java's "." also stops at \r and the Unicode line ends
_SIMPLE = {
    "z": "\\Z", "Z": "(?=(?:\\r\\n|[\\n\\r\\x85\\u2028\\u2029])?\\Z)", "e": "\\x1b",
    "R": "(?:\\r\\n|[\\n\\x0b\\f\\r\\x85\\u2028\\u2029])",
}
_CLASSES = {"h": " \\t\\xa0\\u1680\\u180e\\u2000-\\u200a\\u202f\\u205f\\u3000",
            "v": "\\n\\x0b\\f\\r\\x85\\u2028\\u2029",
            # Java's shorthands are ASCII unless UNICODE_CHARACTER_CLASS; regex's are Unicode
            "d": "0-9", "w": "a-zA-Z0-9_", "s": " \\t\\n\\x0b\\f\\r"}


@functools.lru_cache(maxsize=512)
def java_pattern(pattern: str) -> regex.Pattern:
    r"""Compile a Java regex (AllowedPattern) for Python, or raise PatternError.

    Translated to Java's meaning: \d \w \s \b (ASCII in Java), \p{Alpha}-style POSIX classes
    (ASCII), ".", \Q…\E, \z \Z \h \v \R \e \x{…} \cX \0nn, (?<name>…) and \k<name>.
    Unicode \p{L}, \p{IsLatin}… pass through (regex knows them). Refused rather than guessed:
    nested classes and && intersections, \G, negated shorthands inside [ ], Java's d/u/U/c flags.
    Not translated: (?i) folds Unicode case here, ASCII only in Java.
    """
    try:
        return regex.compile(_translate(pattern), regex.V0)
    except regex.error as exc:
        raise PatternError(f"not a valid regular expression: {exc}") from None
    except RecursionError:
        raise PatternError("nested too deeply") from None


def _translate(p: str) -> str:
    out: list[str] = []
    i, n = 0, len(p)
    in_class = False
    dotall = re.search(r"\(\?[a-zA-Z]*s", p) is not None  # Java scopes flags; close enough
    while i < n:
        c = p[i]
        if c == "\\":
            piece, i = _escape(p, i, in_class)
            out.append(piece)
            continue
        if in_class:
            if c == "[":
                raise PatternError("nested character classes ([a[b]]) are not supported")
            if p.startswith("&&", i):
                raise PatternError("character class intersection (&&) is not supported")
            if c == "]":
                in_class = False
            out.append("\\" + c if c in "~|-" and p[i + 1:i + 2] == c else c)  # Python warns on ~~ || --
        elif c == "[":
            in_class = True
            start = "[^" if p.startswith("[^", i) else "["
            i += len(start)
            if p[i:i + 1] == "]":
                raise PatternError("an empty character class ([] or [^]) is not valid in Java")
            out.append(start)
            continue
        elif c == "." and not dotall:
            out.append(_JAVA_DOT)
        elif p.startswith("(?<", i) and p[i + 3:i + 4] not in ("=", "!"):
            out.append("(?P<")
            i += 3
            continue
        elif p.startswith("(?", i) and re.match(r"\(\?[a-zA-Z-]*[dUuc]", p[i:]):
            raise PatternError("Java's d, u, U and c flags have no Python equivalent")
        else:
            out.append(c)
        i += 1
    if in_class:
        raise PatternError("unclosed character class")
    return "".join(out)


def _escape(p: str, i: int, in_class: bool) -> tuple[str, int]:
    """Translate the escape at p[i] == "\\"; return (python text, next index)."""
    if i + 1 >= len(p):
        raise PatternError("the pattern ends with a lone backslash")
    d = p[i + 1]
    if d in "pP":
        if p[i + 2:i + 3] == "{":
            end = p.find("}", i + 3)
            if end < 0:
                raise PatternError("unclosed \\p{")
            name, nxt = p[i + 3:end], end + 1
        else:
            name, nxt = p[i + 2:i + 3], i + 3
        name = name.removeprefix("Is") if name.removeprefix("Is") in _POSIX else name
        if name not in _POSIX:
            return f"\\{d}{{{name}}}", nxt  # a Unicode property: regex reads it as Java does
        body = _POSIX[name]
        if d == "P" and in_class:
            raise PatternError("\\P{…} inside a character class is not supported")
        return (body if in_class else f"[{body}]") if d == "p" else f"[^{body}]", nxt
    if d == "Q":
        end = p.find("\\E", i + 2)
        literal = p[i + 2:] if end < 0 else p[i + 2:end]
        return re.escape(literal), len(p) if end < 0 else end + 2
    if d in _SIMPLE and not in_class:
        return _SIMPLE[d], i + 2
    if d == "e":
        return "\\x1b", i + 2
    if d in "bB" and not in_class:
        return f"(?a:\\{d})", i + 2
    if d.lower() in _CLASSES:
        body = _CLASSES[d.lower()]
        if d.isupper():
            if in_class:
                raise PatternError(f"\\{d} inside a character class is not supported")
            return f"[^{body}]", i + 2
        return (body if in_class else f"[{body}]"), i + 2
    if d == "k" and p[i + 2:i + 3] == "<":
        end = p.find(">", i + 3)
        if end < 0:
            raise PatternError("unclosed \\k<")
        return f"(?P={p[i + 3:end]})", end + 1
    if d == "x" and p[i + 2:i + 3] == "{":
        end = p.find("}", i + 3)
        try:
            if end < 0:
                raise ValueError
            return re.escape(chr(int(p[i + 3:end], 16))), end + 1
        except (ValueError, OverflowError):
            raise PatternError("bad \\x{…} escape") from None
    if d == "c" and i + 2 < len(p):
        return re.escape(chr(ord(p[i + 2]) ^ 64)), i + 3
    if d == "0":
        digits = re.match(r"[0-3]?[0-7]{1,2}", p[i + 2:i + 5])
        if not digits:
            raise PatternError("bad octal escape \\0")
        return re.escape(chr(int(digits.group(), 8))), i + 2 + len(digits.group())
    if d in "GXz" or (d in "ZR" and in_class):
        raise PatternError(f"\\{d} is not supported")
    return p[i:i + 2], i + 2
