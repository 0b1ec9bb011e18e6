"""Values checked with CloudFormation's semantics: whole-string patterns, lengths, ranges, lists."""

import time

import pytest

from catalog.cfn.parameter_spec import ParameterSpec
from catalog.cfn.values import PATTERN_TIMEOUT, PatternError, coerce, java_pattern, validate_value


def spec(type_="String", **kw) -> ParameterSpec:
    return ParameterSpec(key="P", type=type_, **kw)


def test_it_matches_the_pattern_against_the_whole_value():
    digits = spec(allowed_pattern="[0-9]+")
    assert validate_value(digits, "123") == []
    assert validate_value(digits, "12a") == ["The value must match the pattern [0-9]+."]
    assert validate_value(digits, "a12") != []
    assert validate_value(digits, "12\n") != []  # "$"-style end-before-newline does not count
    cidr = spec(allowed_pattern=r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})/(\d{1,2})")
    assert validate_value(cidr, "10.0.0.0/16") == []
    assert validate_value(cidr, "10.0.0.0/16 ") != []
    assert validate_value(cidr, "10.0.0.0/160") != []


def test_it_checks_lengths_in_characters():
    s = spec(min_length=3, max_length=5)
    assert validate_value(s, "abc") == [] and validate_value(s, "abcde") == []
    assert validate_value(s, "ab") == ["The value must be at least 3 characters long."]
    assert validate_value(s, "abcdef") == ["The value must be at most 5 characters long."]
    assert validate_value(s, "héllo") == []


def test_it_checks_numbers_and_their_range():
    n = spec("Number", min_value=5, max_value=10)
    for ok in ("5", "10", "7.5", "1e1", "+6", "05"):
        assert validate_value(n, ok) == [], ok
    assert validate_value(n, "4") == ["The value must be at least 5."]
    assert validate_value(n, "10.01") == ["The value must be at most 10."]
    for bad in ("x", "nan", "inf", "1_000", " 7", "0x10", "5,6"):
        assert validate_value(n, bad) == ["The value is not a number."], bad
    assert validate_value(spec("Number"), "-3.25") == []


def test_it_checks_allowed_values_exactly():
    s = spec(allowed_values=["t3.micro", "t3.small"])
    assert validate_value(s, "t3.micro") == []
    assert validate_value(s, "T3.micro") == ["The value must be one of: t3.micro, t3.small."]
    assert validate_value(s, " t3.micro") != []
    n = spec("Number", allowed_values=["1", "2"])
    assert validate_value(n, "1.0") != []  # an exact string match, not a numeric one


def test_it_checks_list_members_one_by_one():
    nums = spec("List<Number>", min_value=1, max_value=3)
    assert validate_value(nums, "1,2, 3") == []
    assert validate_value(nums, "1,x,4") == ["'x' is not a number.", "'4' must be at most 3."]
    cdl = spec("CommaDelimitedList", allowed_values=["a", "b"], allowed_pattern="[a-z]")
    assert validate_value(cdl, "a, b,a") == []  # CloudFormation trims each member
    assert validate_value(cdl, "a,c") == ["'c' must be one of: a, b."]
    assert validate_value(cdl, "a,bb") == ["'bb' must match the pattern [a-z].", "'bb' must be one of: a, b."]
    subnets = spec("List<AWS::EC2::Subnet::Id>", allowed_pattern="subnet-[0-9a-f]+")
    assert validate_value(subnets, "subnet-1a,subnet-2b") == []
    assert validate_value(subnets, "subnet-1a,sg-1") == ["'sg-1' must match the pattern subnet-[0-9a-f]+."]
    secret = spec("CommaDelimitedList", allowed_values=["a"], no_echo=True)
    assert validate_value(secret, "a,hunter2") == ["A member must be one of: a."]  # NoEcho: not echoed


def test_it_puts_the_constraint_description_in_place_of_generic_messages():
    s = spec(allowed_pattern="[0-9]+", min_length=2, max_length=3, allowed_values=["12", "123"],
             constraint_description="two or three digits")
    assert validate_value(s, "12") == []
    assert validate_value(s, "1a") == ["two or three digits"]  # pattern and allowed values: once
    assert validate_value(s, "1234") == ["two or three digits"]
    n = spec("Number", min_value=1, constraint_description="at least one")
    assert validate_value(n, "0") == ["at least one"]
    assert validate_value(n, "zero") == ["The value is not a number."]  # a type error keeps its message
    blank = spec(allowed_pattern="[0-9]+", constraint_description="  ")
    assert validate_value(blank, "x") == ["The value must match the pattern [0-9]+."]


def test_it_requires_a_value_only_without_a_default():
    assert validate_value(spec(), "") == ["A value is required."]
    assert validate_value(spec(), None) == ["A value is required."]
    assert validate_value(spec("List<AWS::EC2::Subnet::Id>"), "") == ["A value is required."]
    assert validate_value(spec(default="x"), "") == []
    # an empty value means the Default, which CloudFormation checks too
    assert validate_value(spec(default="x", allowed_values=["y"]), "") == ["The value must be one of: y."]
    assert validate_value(spec(default=""), "") == []


def test_it_refuses_values_over_cloudformations_size_limit():
    assert validate_value(spec(), "x" * 4097) == ["The value is longer than CloudFormation's limit of 4096 bytes."]
    assert validate_value(spec(), "x" * 4096) == []


def test_it_coerces_values_for_the_rules_engine():
    assert coerce(spec("CommaDelimitedList"), "a, b ,c") == ["a", "b", "c"]
    assert coerce(spec("List<Number>"), "1,2") == ["1", "2"]
    assert coerce(spec("List<Number>", default="3,4"), "") == ["3", "4"]
    assert coerce(spec("CommaDelimitedList"), "") == []
    assert coerce(spec("Number"), "5") == "5"  # Ref of a Number parameter is a string
    assert coerce(spec(default="d"), "") == "d"
    assert coerce(spec("AWS::SSM::Parameter::Value<List<String>>"), "/my/param") == "/my/param"


@pytest.mark.parametrize("pattern, value, matches", [
    (r"^[\w]+$", "abc_1", True),
    (r"^[\w]+$", "héllo", False),  # Java's \w is ASCII
    (r"\d+", "١٢", False),  # so is \d
    (r"\p{Alpha}+", "abc", True),
    (r"\p{Alpha}+", "é", False),  # POSIX classes are ASCII in Java
    (r"\p{L}+", "héllo", True),  # Unicode categories work as in Java
    (r"\p{Lu}\p{Ll}+", "Ébc", True),
    (r"[\p{Digit}_]+", "1_2", True),
    (r"\P{Digit}+", "ab", True),
    (r"\QA.B\E", "A.B", True),
    (r"\QA.B\E", "AxB", False),
    (r"(?<year>\d{4})-\k<year>", "2024-2024", True),
    (r"a.b", "a\rb", False),  # Java's "." stops at \r
    (r"a\hb", "a\tb", True),
    (r"x\z", "x", True),
    (r"[a-z]++", "abc", True),  # possessive
    (r"(?>ab|a)c", "abc", True),  # atomic
    (r"[S|N]", "|", True),  # a real sample's pattern: | inside a class is a literal
    (r"\x{41}\0102\cI", "AB\t", True),
])
def test_it_reads_allowed_patterns_as_java_does(pattern, value, matches):
    assert (java_pattern(pattern).fullmatch(value) is not None) is matches


@pytest.mark.parametrize("pattern", [r"[a[b]]", r"[a-z&&[^e]]", r"\p{javaLowerCase}", r"(", r"[\D]", r"\G",
                                     r"(?U)\w", r"[]a]"])
def test_it_refuses_patterns_it_cannot_check_as_java_would(pattern):
    with pytest.raises(PatternError):
        java_pattern(pattern)


def test_it_skips_an_uncheckable_pattern_rather_than_refusing_every_value():
    assert validate_value(spec(allowed_pattern=r"[a-z&&[^e]]"), "anything") == []


def test_it_bounds_the_time_a_catastrophic_pattern_can_take():
    s = spec(allowed_pattern=r"(x|xx)+y")
    start = time.perf_counter()
    assert validate_value(s, "x" * 4000) == ["The value could not be checked against the pattern (x|xx)+y in time."]
    lists = spec("CommaDelimitedList", allowed_pattern=r"(x|xx)+y")
    assert len(validate_value(lists, ",".join(["x" * 200] * 20))) >= 1
    # Unbounded, (x|xx)+y on 4,000 x's would not finish in our lifetime: the timeout message above is the proof.
    # The wall-clock check only catches a bound gone missing (a loaded 2-core CI machine took 4.7 s for 2 × 1 s).
    assert time.perf_counter() - start < 10 * PATTERN_TIMEOUT + 10
