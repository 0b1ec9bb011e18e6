"""Custom declarative rules: each op, the combinators, fan-out, quoting, syntax errors, a realistic SG rule."""

import pytest

from remediation.rules.base import COMPLIANT, INSUFFICIENT_DATA, NON_COMPLIANT, NOT_APPLICABLE, ResourceView
from remediation.rules.declarative import IDENTIFIER, RuleSyntaxError, compile_rule, explain, parse_path

SG = "AWS::EC2::SecurityGroup"


def _group(permissions=(), tags=None, **extra):
    configuration = {"groupId": "sg-0123", "groupName": "web", "vpcId": "vpc-1", "ipPermissions": list(permissions),
                     **extra}
    return ResourceView(resource_type=SG, resource_id="sg-0123", account_id="111111111111", region="eu-west-1",
                        configuration=configuration, tags=dict(tags or {}),
                        relationships=[{"relationshipName": "Is contained in Vpc", "resourceType": "AWS::EC2::VPC",
                                        "resourceId": "vpc-1"}])


def _perm(protocol="tcp", start=22, end=22, v4=(), v6=()):
    return {"ipProtocol": protocol, "fromPort": start, "toPort": end, "ipRanges": [{"cidrIp": c} for c in v4],
            "ipv6Ranges": [{"cidrIpv6": c} for c in v6], "userIdGroupPairs": [], "prefixListIds": []}


OPEN = _group([_perm("tcp", 80, 80, ["10.0.0.0/8"]), _perm("tcp", 22, 22, ["192.168.0.0/16", "0.0.0.0/0"])],
              tags={"owner": "web-team", "cost-center": "42", "aws:cloudformation:stack-name": "lamp"})


def _rule(match, types=(SG,), annotation="Matched"):
    return compile_rule({"resource_types": list(types), "match": match, "annotation": annotation})


def _status(match, resource=OPEN):
    return _rule(match).evaluate(resource, {}).status


# ------------------------------------------------------------------------------------------------ ops


@pytest.mark.parametrize(("op", "path", "value", "expected"), [
    ("eq", "configuration.groupName", "web", True),
    ("eq", "configuration.groupName", "db", False),
    ("eq", "configuration.ipPermissions[0].fromPort", 80, True),
    ("eq", "configuration.ipPermissions[0].fromPort", "80", False),  # JSON types differ
    ("eq", "configuration.ipPermissions[0].ipRanges", [{"cidrIp": "10.0.0.0/8"}], True),
    ("ne", "configuration.groupName", "db", True),
    ("ne", "configuration.groupName", "web", False),
    ("lt", "configuration.ipPermissions[*].fromPort", 23, True),
    ("lt", "configuration.ipPermissions[*].fromPort", 22, False),
    ("le", "configuration.ipPermissions[*].fromPort", 22, True),
    ("gt", "configuration.ipPermissions[*].toPort", 79, True),
    ("gt", "configuration.ipPermissions[*].toPort", 80, False),
    ("ge", "configuration.ipPermissions[*].toPort", 80, True),
    ("gt", "configuration.groupName", "wea", True),  # strings compare as strings
    ("gt", "configuration.groupName", 5, False),  # a string never compares with a number
    ("in", "region", ["eu-west-1", "eu-central-1"], True),
    ("in", "region", ["us-east-1"], False),
    ("not_in", "region", ["us-east-1"], True),
    ("not_in", "region", ["eu-west-1"], False),
    ("contains", "configuration.ipPermissions[*].ipRanges[*].cidrIp", "0.0.0.0/0", True),  # substring of a string
    ("contains", "configuration.groupName", "eb", True),
    ("contains", "configuration.ipPermissions[1].ipRanges", {"cidrIp": "0.0.0.0/0"}, True),  # item of a list
    ("contains", "configuration.ipPermissions[0].ipRanges", {"cidrIp": "0.0.0.0/0"}, False),
    ("not_contains", "configuration.ipPermissions[0].ipRanges", {"cidrIp": "0.0.0.0/0"}, True),
    ("not_contains", "configuration.groupName", "we", False),
    ("not_contains", "configuration.ipPermissions[0].fromPort", 8, False),  # a number neither contains nor not
    ("regex", "tags.owner", "[a-z]+-team", True),
    ("regex", "tags.owner", "team", False),  # a full match, not a search
    ("regex", "configuration.ipPermissions[0].fromPort", "80", False),  # only strings
])
def test_each_value_op(op, path, value, expected):
    assert _status({"path": path, "op": op, "value": value}) == (NON_COMPLIANT if expected else COMPLIANT)


@pytest.mark.parametrize(("cidr", "expected"), [
    ("0.0.0.0/0", True), ("::/0", True), ("10.1.2.3/0", True), (" 0.0.0.0/0", True), ("0.0.0.0/1", False),
    ("::/1", False), ("10.0.0.0/8", False), ("0.0.0.0", False), ("not a cidr/0", False),
])
def test_cidr_world_is_a_prefix_length_of_zero(cidr, expected):
    group = _group([_perm(v4=[cidr])])
    match = {"path": "configuration.ipPermissions[*].ipRanges[*].cidrIp", "op": "cidr_world"}
    assert _status(match, group) == (NON_COMPLIANT if expected else COMPLIANT)


def test_cidr_world_on_ipv6_ranges():
    group = _group([_perm(v4=["10.0.0.0/8"], v6=["2001:db8::/32", "::/0"])])
    rule = _rule({"path": "configuration.ipPermissions[*].ipv6Ranges[*].cidrIpv6", "op": "cidr_world"},
                 annotation="World")
    assert rule.evaluate(group, {}).annotation == (
        "World: configuration.ipPermissions[0].ipv6Ranges[1].cidrIpv6 is ::/0 (open to the world)")


def test_present_and_absent_treat_null_as_absent():
    group = _group(tags={"owner": "x"}, description=None)
    assert _status({"path": "tags.owner", "op": "present"}, group) == NON_COMPLIANT
    assert _status({"path": "tags.owner", "op": "absent"}, group) == COMPLIANT
    assert _status({"path": "tags.team", "op": "absent"}, group) == NON_COMPLIANT
    assert _status({"path": "configuration.description", "op": "absent"}, group) == NON_COMPLIANT
    assert _status({"path": "configuration.description", "op": "present"}, group) == COMPLIANT
    # over a fan-out: present when any value is there, absent when none is
    assert _status({"path": "configuration.ipPermissions[*].ipRanges[*].cidrIp", "op": "present"}) == NON_COMPLIANT
    fanned = "configuration.ipPermissions[*].ipRanges[*].cidrIp"
    assert _status({"path": fanned, "op": "absent"}, group) == NON_COMPLIANT


def test_a_path_that_finds_nothing_satisfies_no_op_but_absent():
    for op, value in (("eq", None), ("ne", "x"), ("not_in", ["x"]), ("not_contains", "x"), ("lt", 5)):
        assert _status({"path": "configuration.noSuchKey", "op": op, "value": value}) == COMPLIANT
    assert _status({"path": "configuration.noSuchKey", "op": "absent"}) == NON_COMPLIANT


def test_roots_other_than_configuration():
    assert _status({"path": "resource_type", "op": "eq", "value": SG}) == NON_COMPLIANT
    assert _status({"path": "resource_id", "op": "regex", "value": "sg-[0-9a-f]+"}) == NON_COMPLIANT
    assert _status({"path": "account_id", "op": "eq", "value": "111111111111"}) == NON_COMPLIANT
    assert _status({"path": "relationships[*].resourceType", "op": "eq", "value": "AWS::EC2::VPC"}) == NON_COMPLIANT
    bucket = ResourceView(resource_type="AWS::S3::Bucket", resource_id="b", account_id="1", region="eu-west-1",
                          configuration={"name": "b"}, supplementary={"PublicAccessBlockConfiguration": None})
    rule = _rule({"path": "supplementary.PublicAccessBlockConfiguration", "op": "absent"}, types=["AWS::S3::Bucket"])
    assert rule.evaluate(bucket, {}).status == NON_COMPLIANT


# ------------------------------------------------------------------------------------------------ combinators


def test_all_any_not():
    yes = {"path": "configuration.groupName", "op": "eq", "value": "web"}
    no = {"path": "configuration.groupName", "op": "eq", "value": "db"}
    assert _status({"all": [yes, yes]}) == NON_COMPLIANT
    assert _status({"all": [yes, no]}) == COMPLIANT
    assert _status({"any": [no, yes]}) == NON_COMPLIANT
    assert _status({"any": [no, no]}) == COMPLIANT
    assert _status({"not": no}) == NON_COMPLIANT
    assert _status({"not": yes}) == COMPLIANT
    assert _status({"not": {"all": [yes, {"not": no}]}}) == COMPLIANT
    assert _status({"any": [no, {"all": [yes, {"not": no}]}]}) == NON_COMPLIANT


def test_the_annotation_names_what_matched():
    rule = _rule({"all": [{"path": "configuration.groupName", "op": "eq", "value": "web"},
                          {"path": "configuration.ipPermissions[*].fromPort", "op": "lt", "value": 1024},
                          {"not": {"path": "tags.team", "op": "present"}}]}, annotation="Low port")
    assert rule.evaluate(OPEN, {}).annotation == (
        "Low port: configuration.groupName eq web and configuration.ipPermissions[0].fromPort lt 1024 (is 80) "
        "and not (tags.team present)")


def test_fan_out_matches_when_any_value_does_and_reports_its_indices():
    rule = _rule({"path": "configuration.ipPermissions[*].ipRanges[*].cidrIp", "op": "eq", "value": "0.0.0.0/0"})
    assert rule.evaluate(OPEN, {}).annotation == (
        "Matched: configuration.ipPermissions[1].ipRanges[1].cidrIp eq 0.0.0.0/0")
    # [n] picks one item, negative from the end; out of range finds nothing
    assert _status({"path": "configuration.ipPermissions[1].ipRanges[-1].cidrIp", "op": "eq", "value": "0.0.0.0/0"}) \
        == NON_COMPLIANT
    assert _status({"path": "configuration.ipPermissions[0].ipRanges[*].cidrIp", "op": "eq", "value": "0.0.0.0/0"}) \
        == COMPLIANT
    assert _status({"path": "configuration.ipPermissions[5].fromPort", "op": "absent"}) == NON_COMPLIANT
    # no implicit fan-out: a key step on a list finds nothing
    assert _status({"path": "configuration.ipPermissions.fromPort", "op": "present"}) == COMPLIANT
    # [*] over a mapping fans out over its values
    assert _status({"path": "tags[*]", "op": "eq", "value": "web-team"}) == NON_COMPLIANT


def test_quoted_keys():
    for path in ('tags."cost-center"', 'tags["cost-center"]'):
        assert _status({"path": path, "op": "eq", "value": "42"}) == NON_COMPLIANT
    assert _status({"path": 'tags["aws:cloudformation:stack-name"]', "op": "eq", "value": "lamp"}) == NON_COMPLIANT
    group = _group(tags={'say "hi"\\': "yes", "a.b": "dotted"})
    assert _status({"path": r'tags."say \"hi\"\\"', "op": "eq", "value": "yes"}, group) == NON_COMPLIANT
    rule = _rule({"path": 'tags."a.b"', "op": "eq", "value": "dotted"})
    assert rule.evaluate(group, {}).annotation == 'Matched: tags."a.b" eq dotted'
    assert parse_path('tags["x"][0][*]') == (("key", "tags"), ("key", "x"), ("index", 0), ("all", None))


# ------------------------------------------------------------------------------------------------ rule protocol


def test_rule_attributes_and_not_applicable():
    rule = compile_rule({"resource_types": [SG, "AWS::EC2::Instance"], "name": "no-open-sg",
                         "match": {"path": "tags.owner", "op": "absent"}, "annotation": "No owner"})
    assert (rule.name, rule.identifier, rule.parameters, rule.periodic) == ("no-open-sg", IDENTIFIER, (), False)
    assert rule.identifier == "CUSTOM_DECLARATIVE" and rule.description == "No owner"
    assert rule.resource_types == (SG, "AWS::EC2::Instance")
    bucket = ResourceView(resource_type="AWS::S3::Bucket", resource_id="b", account_id="1", region="r",
                          configuration={})
    evaluation = rule.evaluate(bucket, {})
    assert evaluation.status == NOT_APPLICABLE and "AWS::EC2::SecurityGroup" in evaluation.annotation
    assert rule.evaluate(OPEN, {}).status == COMPLIANT and rule.evaluate(OPEN, {}).annotation == "No condition matched"


def test_unknown_values_of_a_planned_resource_give_insufficient_data():
    group = _group([_perm(v4=[None])])
    group.context = {"planned": True, "unresolved": ["configuration.ipPermissions[0].ipRanges[0].cidrIp"]}
    world = {"path": "configuration.ipPermissions[*].ipRanges[*].cidrIp", "op": "cidr_world"}
    evaluation = _rule(world).evaluate(group, {})
    assert evaluation == type(evaluation)(
        INSUFFICIENT_DATA, "Not known before launch: configuration.ipPermissions[0].ipRanges[0].cidrIp")
    # a known match elsewhere still decides; an unknown value counts as present
    assert _status({"any": [world, {"path": "configuration.groupName", "op": "eq", "value": "web"}]}, group) \
        == NON_COMPLIANT
    assert _status({"all": [world, {"path": "configuration.groupName", "op": "eq", "value": "db"}]}, group) == COMPLIANT
    assert _status({"not": world}, group) == INSUFFICIENT_DATA
    assert _status({"path": "configuration.ipPermissions[0].ipRanges[0].cidrIp", "op": "absent"}, group) == COMPLIANT
    assert explain({"resource_types": [SG], "match": world}, group) == [
        "match: configuration.ipPermissions[0].ipRanges[0].cidrIp is not known before launch"]


def test_a_realistic_security_group_rule():
    definition = {
        "resource_types": [SG],
        "match": {"any": [
            {"all": [{"path": "configuration.ipPermissions[*].ipRanges[*].cidrIp", "op": "contains",
                      "value": "0.0.0.0/0"},
                     {"not": {"path": "configuration.ipPermissions[*].fromPort", "op": "in", "value": [80, 443]}}]},
            {"path": "tags.owner", "op": "absent"}]},
        "annotation": "Open to the world or without an owner",
    }
    rule = compile_rule(definition)
    assert rule.evaluate(OPEN, {}).status == COMPLIANT  # port 80 is in [80, 443]: `in` holds for one value
    definition["match"]["any"][0] = {"path": "configuration.ipPermissions[*].ipRanges[*].cidrIp", "op": "contains",
                                     "value": "0.0.0.0/0"}
    rule = compile_rule(definition)
    assert rule.evaluate(OPEN, {}).annotation == (
        "Open to the world or without an owner: configuration.ipPermissions[1].ipRanges[1].cidrIp contains 0.0.0.0/0")
    closed = _group([_perm(v4=["10.0.0.0/8"])], tags={"owner": "me"})
    assert rule.evaluate(closed, {}).status == COMPLIANT
    unowned = _group([_perm(v4=["10.0.0.0/8"])])
    assert rule.evaluate(unowned, {}).annotation == "Open to the world or without an owner: tags.owner absent"
    assert explain(definition, OPEN) == [
        'match.any[0]: configuration.ipPermissions[1].ipRanges[1].cidrIp = "0.0.0.0/0" (contains 0.0.0.0/0)']
    assert explain(definition, unowned) == ["match.any[1]: tags.owner is absent"]
    assert explain(definition, {"resource_type": SG, "configuration": {}, "tags": {"owner": "x"}}) == []
    assert explain(definition, {"resource_type": "AWS::S3::Bucket"}) == []


def test_the_annotation_stays_one_line_under_256_characters():
    group = _group(description="line one\nline two " + "x" * 400)
    evaluation = _rule({"path": "configuration.description", "op": "present"}).evaluate(group, {})
    assert len(evaluation.annotation) <= 256 and "\n" not in evaluation.annotation


# ------------------------------------------------------------------------------------------------ syntax errors


@pytest.mark.parametrize(("definition", "where", "message"), [
    ([], "", "a rule definition is a JSON object"),
    ({"resource_types": [SG], "match": {}, "severity": "high"}, "severity", "unknown top-level key 'severity'"),
    ({"match": {"path": "tags.a", "op": "absent"}}, "resource_types", "non-empty list of resource types"),
    ({"resource_types": "AWS::EC2::SecurityGroup", "match": {}}, "resource_types", "non-empty list"),
    ({"resource_types": [SG, "SecurityGroup"], "match": {}}, "resource_types[1]", "SecurityGroup is not a resource"),
    ({"resource_types": [SG]}, "match", "'match' is required"),
    ({"resource_types": [SG], "match": {"path": "tags.a", "op": "absent"}, "annotation": ""}, "annotation",
     "non-empty string"),
    ({"resource_types": [SG], "match": {"path": "tags.a", "op": "absent"}, "annotation": 5}, "annotation",
     "non-empty string"),
    ({"resource_types": [SG], "match": [1]}, "match", "expected a condition"),
    ({"resource_types": [SG], "match": {"any": []}}, "match.any", "non-empty list of conditions"),
    ({"resource_types": [SG], "match": {"all": {"path": "tags.a", "op": "absent"}}}, "match.all", "non-empty list"),
    ({"resource_types": [SG], "match": {"any": [{"path": "tags.a", "op": "absent"}], "path": "x"}}, "match",
     "'any' must be alone in its object; also found path"),
    ({"resource_types": [SG], "match": {"not": [{"path": "tags.a", "op": "absent"}]}}, "match.not",
     "expected a condition"),
    ({"resource_types": [SG], "match": {"any": [{"path": "tags.a", "op": "absent"}, {"path": "tags.a", "op": "like",
                                                                                      "value": "x"}]}},
     "match.any[1].op", "unknown op like; use one of eq, ne, lt"),
    ({"resource_types": [SG], "match": {"path": "tags.a", "op": "eq"}}, "match", "'eq' needs a value"),
    ({"resource_types": [SG], "match": {"op": "eq", "value": 1}}, "match", "the condition has no 'path'"),
    ({"resource_types": [SG], "match": {"path": "tags.a"}}, "match", "the condition has no 'op'"),
    ({"resource_types": [SG], "match": {"path": "tags.a", "op": "eq", "value": 1, "negate": True}}, "match.negate",
     "unknown key 'negate'"),
    ({"resource_types": [SG], "match": {"path": "tags.a", "op": "absent", "value": True}}, "match.value",
     "'absent' takes no value"),
    ({"resource_types": [SG], "match": {"path": "tags.a", "op": "cidr_world", "value": "0.0.0.0/0"}}, "match.value",
     "'cidr_world' takes no value"),
    ({"resource_types": [SG], "match": {"path": "tags.a", "op": "regex", "value": "(unclosed"}}, "match.value",
     "bad regex (unclosed: missing ), unterminated subpattern"),
    ({"resource_types": [SG], "match": {"path": "tags.a", "op": "regex", "value": 5}}, "match.value",
     "'regex' needs a pattern string, not number"),
    ({"resource_types": [SG], "match": {"path": "tags.a", "op": "in", "value": "a,b"}}, "match.value",
     "'in' needs a list of values, not string"),
    ({"resource_types": [SG], "match": {"path": "tags.a", "op": "gt", "value": True}}, "match.value",
     "'gt' compares with a number or a string, not boolean"),
    ({"resource_types": [SG], "match": {"path": "tags.a", "op": "le", "value": None}}, "match.value",
     "not null"),
    ({"resource_types": [SG], "match": {"path": "config.groupId", "op": "absent"}}, "match.path",
     "bad path 'config.groupId': a path starts with one of configuration, supplementary, tags"),
    ({"resource_types": [SG], "match": {"path": "tags.cost-center", "op": "absent"}}, "match.path",
     "at character 10: unexpected '-'"),
    ({"resource_types": [SG], "match": {"path": "tags.", "op": "absent"}}, "match.path",
     "at character 5: expected a key after '.'; quote keys with other characters: tags.\"cost-center\""),
    ({"resource_types": [SG], "match": {"path": 'tags."cost-center', "op": "absent"}}, "match.path",
     "at character 5: a quoted key is not closed"),
    ({"resource_types": [SG], "match": {"path": "configuration.ipPermissions[x]", "op": "absent"}}, "match.path",
     "at character 28: expected [*], [integer] or [\"quoted key\"]"),
    ({"resource_types": [SG], "match": {"path": "", "op": "absent"}}, "match.path", "non-empty string"),
    ({"resource_types": [SG], "match": {"path": ["tags"], "op": "absent"}}, "match.path", "non-empty string"),
])
def test_syntax_errors_name_the_place(definition, where, message):
    with pytest.raises(RuleSyntaxError) as caught:
        compile_rule(definition)
    assert caught.value.path == where
    assert message in caught.value.message, caught.value.message
    assert isinstance(caught.value, ValueError)
    assert str(caught.value).startswith(f"{where}: " if where else message[:10])


def test_a_syntax_error_survives_pickling():
    import pickle

    with pytest.raises(RuleSyntaxError) as caught:
        compile_rule({"resource_types": ["AWS::EC2::SecurityGroup"], "match": {"path": "tags.a", "op": "like"}})
    copied = pickle.loads(pickle.dumps(caught.value))
    assert (copied.path, copied.message, str(copied)) == (caught.value.path, caught.value.message, str(caught.value))
    assert str(copied).startswith("match.op: unknown op like")


def test_nesting_is_bounded():
    node = {"path": "tags.a", "op": "absent"}
    for _ in range(40):
        node = {"not": node}
    with pytest.raises(RuleSyntaxError, match="nest deeper than 32"):
        compile_rule({"resource_types": [SG], "match": node})
