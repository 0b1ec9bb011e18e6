"""EventBridge event patterns over CloudTrail records: every operator both ways, the syntax checks, real records,
and moto's EventBridge as an oracle for a handful of cases."""

import glob
import json
import os
import uuid

import pytest
from django.conf import settings

from audit.cloudtrail.patterns import (
    MAX_PATTERN_CHARS,
    Pattern,
    PatternError,
    as_event,
    compile_pattern,
    envelope,
    matches,
)
from sandbox.testing import samples_path


def record(**fields):
    """A CloudTrail record; `fields` override the defaults."""
    base = {"eventVersion": "1.09", "eventID": "e-1", "eventTime": "2024-08-01T12:00:00Z", "awsRegion": "eu-west-1",
            "eventSource": "ec2.amazonaws.com", "eventName": "RunInstances", "eventType": "AwsApiCall",
            "recipientAccountId": "111111111111", "sourceIPAddress": "203.0.113.7",
            "userIdentity": {"type": "IAMUser", "accountId": "111111111111", "userName": "daisy"},
            "requestParameters": {"instanceType": "t3.micro", "count": 3, "tags": ["a", "b"], "dryRun": False,
                                  "note": None, "key": "photos/Cat.PNG"}}
    return {**base, **fields}


def detail(**pattern):
    return {"detail": pattern}


def params(**pattern):
    return {"detail": {"requestParameters": pattern}}


# (pattern, record fields, expected): each operator matched and missed.
CASES = {
    "exact string": (detail(eventName=["RunInstances"]), {}, True),
    "exact string, other value": (detail(eventName=["StopInstances", "StartInstances"]), {}, False),
    "exact is case-sensitive": (detail(eventName=["runinstances"]), {}, False),
    "exact number": (params(count=[3]), {}, True),
    "exact number across int/float": (params(count=[3.0]), {}, True),
    "a number is not its string": (params(count=["3"]), {}, False),
    "exact false": (params(dryRun=[False]), {}, True),
    "false is not 0": (params(dryRun=[0]), {}, False),
    "exact null": (params(note=[None]), {}, True),
    "null is not the string": (params(note=["null"]), {}, False),
    "source from eventSource": ({"source": ["aws.ec2"]}, {}, True),
    "source of another service": ({"source": ["aws.s3"]}, {}, False),
    "prefix": (detail(eventName=[{"prefix": "Run"}]), {}, True),
    "prefix missed": (detail(eventName=[{"prefix": "run"}]), {}, False),
    "prefix ignoring case": (detail(eventName=[{"prefix": {"equals-ignore-case": "rUN"}}]), {}, True),
    "prefix ignoring case missed": (detail(eventName=[{"prefix": {"equals-ignore-case": "stop"}}]), {}, False),
    "prefix is for strings": (params(count=[{"prefix": "3"}]), {}, False),
    "suffix": (params(key=[{"suffix": ".PNG"}]), {}, True),
    "suffix missed": (params(key=[{"suffix": ".png"}]), {}, False),
    "suffix ignoring case": (params(key=[{"suffix": {"equals-ignore-case": ".png"}}]), {}, True),
    "equals-ignore-case": (detail(eventName=[{"equals-ignore-case": "RUNINSTANCES"}]), {}, True),
    "equals-ignore-case missed": (detail(eventName=[{"equals-ignore-case": "RUNINSTANCE"}]), {}, False),
    "wildcard": (params(key=[{"wildcard": "photos/*.PNG"}]), {}, True),
    "wildcard in the middle": (params(key=[{"wildcard": "p*s/C*"}]), {}, True),
    "wildcard matches the whole value": (params(key=[{"wildcard": "photos/*"}]), {"requestParameters": {
        "key": "old/photos/x"}}, False),
    "wildcard missed": (params(key=[{"wildcard": "*.png"}]), {}, False),
    "wildcard escaped star": (params(key=[{"wildcard": "a\\*b*"}]), {"requestParameters": {"key": "a*bc"}}, True),
    "wildcard escaped star is literal": (params(key=[{"wildcard": "a\\*b"}]), {"requestParameters": {"key": "axb"}},
                                         False),
    "anything-but a string": (detail(eventName=[{"anything-but": "StopInstances"}]), {}, True),
    "anything-but the value": (detail(eventName=[{"anything-but": "RunInstances"}]), {}, False),
    "anything-but a list": (detail(eventName=[{"anything-but": ["RunInstances", "StopInstances"]}]), {}, False),
    "anything-but numbers": (params(count=[{"anything-but": [1, 2]}]), {}, True),
    "anything-but a number": (params(count=[{"anything-but": 3}]), {}, False),
    "anything-but prefix": (detail(eventName=[{"anything-but": {"prefix": "Describe"}}]), {}, True),
    "anything-but prefix missed": (detail(eventName=[{"anything-but": {"prefix": "Run"}}]), {}, False),
    "anything-but suffix": (params(key=[{"anything-but": {"suffix": ".PNG"}}]), {}, False),
    "anything-but suffix, other": (params(key=[{"anything-but": {"suffix": ".jpg"}}]), {}, True),
    "anything-but ignoring case": (detail(eventName=[{"anything-but": {"equals-ignore-case": ["runinstances"]}}]),
                                   {}, False),
    "anything-but wildcard": (params(key=[{"anything-but": {"wildcard": "*/Cat.*"}}]), {}, False),
    "anything-but needs the field": (detail(nothere=[{"anything-but": "x"}]), {}, False),
    "numeric =": (params(count=[{"numeric": ["=", 3]}]), {}, True),
    "numeric = missed": (params(count=[{"numeric": ["=", 4]}]), {}, False),
    "numeric range": (params(count=[{"numeric": [">", 0, "<=", 5]}]), {}, True),
    "numeric range, upper bound included": (params(count=[{"numeric": [">", 0, "<=", 3]}]), {}, True),
    "numeric range, upper bound excluded": (params(count=[{"numeric": [">", 0, "<", 3]}]), {}, False),
    "numeric lower bound only": (params(count=[{"numeric": [">=", 3]}]), {}, True),
    "numeric lower bound excluded": (params(count=[{"numeric": [">", 3]}]), {}, False),
    "numeric on a float": (params(count=[{"numeric": [">", 2.5, "<", 2.75]}]), {"requestParameters": {
        "count": 2.6}}, True),
    "numeric is for numbers": (params(count=[{"numeric": [">", 0]}]), {"requestParameters": {"count": "3"}}, False),
    "numeric ignores booleans": (params(dryRun=[{"numeric": ["=", 0]}]), {}, False),
    "exists true": (detail(sourceIPAddress=[{"exists": True}]), {}, True),
    "exists true on null": (params(note=[{"exists": True}]), {}, True),
    "exists true, absent": (detail(errorCode=[{"exists": True}]), {}, False),
    "exists false, absent": (detail(errorCode=[{"exists": False}]), {}, True),
    "exists false, present": (detail(sourceIPAddress=[{"exists": False}]), {}, False),
    "exists false under an absent object": (detail(nothing={"deeper": [{"exists": False}]}), {}, True),
    "exists is for leaves, not objects": (detail(userIdentity=[{"exists": True}]), {}, False),
    "an absent field fails a value": (detail(errorCode=["AccessDenied"]), {}, False),
    "a value or absent": (detail(errorCode=["AccessDenied", {"exists": False}]), {}, True),
    "cidr v4": (detail(sourceIPAddress=[{"cidr": "203.0.113.0/24"}]), {}, True),
    "cidr v4 missed": (detail(sourceIPAddress=[{"cidr": "203.0.114.0/24"}]), {}, False),
    "cidr v4 single address": (detail(sourceIPAddress=[{"cidr": "203.0.113.7"}]), {}, True),
    "cidr v6": (detail(sourceIPAddress=[{"cidr": "2001:db8::/32"}]), {"sourceIPAddress": "2001:db8:5::1"}, True),
    "cidr v6 missed": (detail(sourceIPAddress=[{"cidr": "2001:db9::/32"}]), {"sourceIPAddress": "2001:db8::1"},
                       False),
    "cidr v4 range on a v6 address": (detail(sourceIPAddress=[{"cidr": "0.0.0.0/0"}]),
                                      {"sourceIPAddress": "2001:db8::1"}, False),
    "cidr on a service name": (detail(sourceIPAddress=[{"cidr": "0.0.0.0/0"}]),
                               {"sourceIPAddress": "ec2.amazonaws.com"}, False),
    "cidr reads zero-padded octets as decimal": (detail(sourceIPAddress=[{"cidr": "8.1.250.0/24"}]),
                                                 {"sourceIPAddress": "08.1.250.216"}, True),
    "cidr on a range inside": (params(cidrIp=[{"cidr": "10.0.0.0/8"}]), {"requestParameters": {
        "cidrIp": "10.1.0.0/16"}}, True),
    "cidr on a range wider": (params(cidrIp=[{"cidr": "10.0.0.0/8"}]), {"requestParameters": {
        "cidrIp": "0.0.0.0/0"}}, False),
    "array: any element": (params(tags=["b"]), {}, True),
    "array: no element": (params(tags=["c"]), {}, False),
    "array: anything-but any element": (params(tags=[{"anything-but": "a"}]), {}, True),
    "array: anything-but every element": (params(tags=[{"anything-but": ["a", "b"]}]), {}, False),
    "array: empty is absent": (params(tags=[{"exists": False}]), {"requestParameters": {"tags": []}}, True),
    "array of objects": (params(items={"name": ["y"]}), {"requestParameters": {"items": [{"name": "x"},
                                                                                       {"name": "y"}]}}, True),
    "array of objects: one element must hold it all": (
        params(items={"name": ["x"], "size": [2]}),
        {"requestParameters": {"items": [{"name": "x", "size": 1}, {"name": "y", "size": 2}]}}, False),
    "array of objects: same element": (
        params(items={"name": ["y"], "size": [2]}),
        {"requestParameters": {"items": [{"name": "x", "size": 1}, {"name": "y", "size": 2}]}}, True),
    "$or: second alternative": ({"$or": [{"source": ["aws.s3"]}, detail(eventName=["RunInstances"])]}, {}, True),
    "$or: none": ({"$or": [{"source": ["aws.s3"]}, detail(eventName=["StopInstances"])]}, {}, False),
    "$or nested with AND": (detail(eventName=["RunInstances"], **{"$or": [
        {"sourceIPAddress": [{"cidr": "10.0.0.0/8"}]}, {"errorCode": [{"exists": False}]}]}), {}, True),
    "$or nested with AND, AND fails": (detail(eventName=["StopInstances"], **{"$or": [
        {"sourceIPAddress": [{"cidr": "10.0.0.0/8"}]}, {"errorCode": [{"exists": False}]}]}), {}, False),
    "$or inside $or": ({"$or": [{"source": ["aws.s3"]}, {"$or": [{"region": ["us-east-1"]},
                                                                 {"region": ["eu-west-1"]}]}]}, {}, True),
    "empty pattern": ({}, {}, True),
    "detail-type": ({"detail-type": ["AWS API Call via CloudTrail"]}, {}, True),
    "account and region": ({"account": ["111111111111"], "region": [{"prefix": "eu-"}]}, {}, True),
}


@pytest.mark.parametrize("pattern,fields,expected", CASES.values(), ids=CASES.keys())
def test_each_operator(pattern, fields, expected):
    compiled = compile_pattern(pattern)
    event = envelope(record(**fields)) if "requestParameters" not in fields else envelope(
        record(**{**fields, "requestParameters": {**record()["requestParameters"], **fields["requestParameters"]}}))
    assert compiled.matches(event) is expected
    assert compile_pattern(json.dumps(pattern)).matches(event) is expected  # the JSON text compiles the same
    assert compiled.explain(event)  # always says something


# (pattern, path in the error, words in the message)
ERRORS = {
    "leaf not an array": ({"source": "aws.ec2"}, "source", "must be an array"),
    "leaf a number": (detail(count=3), "detail.count", "must be an array"),
    "operator outside an array": (detail(eventName={"prefix": "Stop"}), "detail.eventName.prefix", "inside an array"),
    "empty array": (detail(eventName=[]), "detail.eventName", "empty array"),
    "nested array": (detail(eventName=[["x"]]), "detail.eventName", "do not nest"),
    "unknown operator": (detail(eventName=[{"contains": "Stop"}]), "detail.eventName", "unknown operator"),
    "two operators in one": (detail(eventName=[{"prefix": "a", "suffix": "b"}]), "detail.eventName", "one key"),
    "prefix not a string": (detail(eventName=[{"prefix": 5}]), "detail.eventName", "prefix takes a string"),
    "prefix odd object": (detail(eventName=[{"prefix": {"ignore-case": "x"}}]), "detail.eventName", "equals-ignore"),
    "suffix not a string": (detail(eventName=[{"suffix": ["x"]}]), "detail.eventName", "suffix"),
    "equals-ignore-case number": (detail(eventName=[{"equals-ignore-case": 1}]), "detail.eventName", "string"),
    "wildcard **": (detail(key=[{"wildcard": "a**b"}]), "detail.key", "consecutive"),
    "wildcard bad escape": (detail(key=[{"wildcard": "a\\b"}]), "detail.key", "escape"),
    "anything-but mixed list": (detail(x=[{"anything-but": ["a", 1]}]), "detail.x", "anything-but"),
    "anything-but empty list": (detail(x=[{"anything-but": []}]), "detail.x", "anything-but"),
    "anything-but null": (detail(x=[{"anything-but": None}]), "detail.x", "anything-but"),
    "anything-but unknown": (detail(x=[{"anything-but": {"numeric": [">", 1]}}]), "detail.x", "anything-but"),
    "numeric odd length": (detail(n=[{"numeric": [">", 1, "<"]}]), "detail.n", "numeric takes"),
    "numeric unknown op": (detail(n=[{"numeric": ["!=", 1]}]), "detail.n", "unknown comparison"),
    "numeric string bound": (detail(n=[{"numeric": [">", "1"]}]), "detail.n", "not a number"),
    "numeric too big": (detail(n=[{"numeric": [">", 6e9]}]), "detail.n", "not a number within"),
    "numeric empty range": (detail(n=[{"numeric": [">", 5, "<", 1]}]), "detail.n", "empty"),
    "numeric empty point": (detail(n=[{"numeric": [">", 5, "<=", 5]}]), "detail.n", "empty"),
    "numeric upper first": (detail(n=[{"numeric": ["<", 5, ">", 1]}]), "detail.n", "lower bound"),
    "numeric two lowers": (detail(n=[{"numeric": [">", 1, ">=", 2]}]), "detail.n", "lower bound"),
    "numeric = in a range": (detail(n=[{"numeric": ["=", 1, "<", 2]}]), "detail.n", "lower bound"),
    "numeric not a list": (detail(n=[{"numeric": 5}]), "detail.n", "numeric takes"),
    "exists not a bool": (detail(x=[{"exists": "true"}]), "detail.x", "true or false"),
    "cidr garbage": (detail(sourceIPAddress=[{"cidr": "10.0.0/8"}]), "detail.sourceIPAddress", "not an IPv4"),
    "cidr prefix too long": (detail(sourceIPAddress=[{"cidr": "10.0.0.0/33"}]), "detail.sourceIPAddress", "not an"),
    "cidr v6 prefix too long": (detail(ip=[{"cidr": "2001:db8::/129"}]), "detail.ip", "not an IPv4 or IPv6"),
    "cidr host bits": (detail(ip=[{"cidr": "10.0.0.1/8"}]), "detail.ip", "10.0.0.0/8"),
    "cidr not a string": (detail(ip=[{"cidr": 10}]), "detail.ip", "cidr takes a string"),
    "$or not a list": ({"$or": {"source": ["x"]}}, "$or", "at least two"),
    "$or of one": ({"$or": [{"source": ["x"]}]}, "$or", "at least two"),
    "$or of a non-object": (detail(**{"$or": [{"a": ["x"]}, ["b"]]}), "detail.$or[1]", "non-empty object"),
    "inside $or": ({"$or": [{"source": ["x"]}, detail(y=[{"bad": 1}])]}, "$or[1].detail.y", "unknown operator"),
    "not an object": (["source"], "", "JSON object"),
}


@pytest.mark.parametrize("pattern,path,words", ERRORS.values(), ids=ERRORS.keys())
def test_bad_syntax_is_refused_with_the_path(pattern, path, words):
    with pytest.raises(PatternError) as caught:
        compile_pattern(pattern)
    assert caught.value.path == path
    assert words in caught.value.message
    assert str(caught.value) == (f"{path}: {caught.value.message}" if path else caught.value.message)
    assert isinstance(caught.value, ValueError)


def test_json_text_is_parsed_and_bad_json_refused():
    assert compile_pattern('{"source": ["aws.ec2"]}').matches(envelope(record()))
    with pytest.raises(PatternError, match="not valid JSON"):
        compile_pattern('{"source": [')
    with pytest.raises(PatternError, match="not expressible as JSON"):
        compile_pattern(detail(n=[float("nan")]))


def test_depth_and_size_limits():
    def nested(levels):
        pattern = {"leaf": ["x"]}
        for _ in range(levels - 1):
            pattern = {"k": pattern}
        return pattern

    compile_pattern(nested(10))
    with pytest.raises(PatternError) as caught:
        compile_pattern(nested(11))
    assert caught.value.path == ".".join(["k"] * 10) and "10 deep" in caught.value.message

    names = [f"Name{i:04d}" for i in range(400)]
    fits = [n for n in names if len(json.dumps({"a": names[:names.index(n) + 1]}, separators=(",", ":")))
            <= MAX_PATTERN_CHARS]
    compile_pattern({"a": fits})
    with pytest.raises(PatternError, match=f"at most {MAX_PATTERN_CHARS}"):
        compile_pattern({"a": fits + ["one-more"]})
    # Pretty-printed JSON is measured compact: whitespace does not count.
    compile_pattern(json.dumps({"a": fits}, indent=8))


def test_envelope_has_eventbridge_shape():
    raw = record()
    event = envelope(raw)
    assert event == {"version": "0", "id": "e-1", "detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2",
                     "account": "111111111111", "time": "2024-08-01T12:00:00Z", "region": "eu-west-1",
                     "resources": [], "detail": raw}
    signin = envelope(record(eventSource="signin.amazonaws.com", eventType="AwsConsoleSignIn",
                             recipientAccountId=None))
    assert signin["detail-type"] == "AWS Console Sign In via CloudTrail" and signin["source"] == "aws.signin"
    assert signin["account"] == "111111111111"  # from userIdentity.accountId
    assert envelope(record(eventType="AwsServiceEvent"))["detail-type"] == "AWS Service Event via CloudTrail"
    assert "source" not in envelope({"eventName": "Odd"})


def test_matches_wraps_raw_records_only():
    raw, pattern = record(), {"source": ["aws.ec2"], "detail": {"eventName": ["RunInstances"]}}
    assert matches(pattern, raw) and matches(pattern, envelope(raw)) and matches(compile_pattern(pattern), raw)
    assert as_event(envelope(raw)) == envelope(raw) and as_event(raw)["detail"] is raw
    # A raw record is not an event: the pattern's "source" is not the record's eventSource.
    assert not compile_pattern(pattern).matches(raw)
    assert compile_pattern(pattern) == compile_pattern(json.dumps(pattern, indent=2))
    assert isinstance(compile_pattern(pattern), Pattern) and "RunInstances" in repr(compile_pattern(pattern))


def test_explain_tells_what_matched_or_what_failed_first():
    event = envelope(record())
    good = compile_pattern({"source": ["aws.ec2"], "detail": {"eventName": [{"prefix": "Run"}],
                                                              "errorCode": [{"exists": False}],
                                                              "requestParameters": {"tags": ["b"]}}})
    assert good.explain(event) == [
        'source: "aws.ec2" matched "aws.ec2"',
        'detail.eventName: "RunInstances" matched {"prefix": "Run"}',
        'detail.errorCode: absent, matched {"exists": false}',
        'detail.requestParameters.tags[1]: "b" matched "b"',
    ]
    bad = compile_pattern({"source": ["aws.ec2"], "detail": {"eventName": ["StopInstances"], "x": ["y"]}})
    assert bad.explain(event) == ['detail.eventName: "RunInstances" did not match ["StopInstances"]']
    absent = compile_pattern(detail(errorCode=["AccessDenied"]))
    assert absent.explain(event) == ['detail.errorCode: absent; needed ["AccessDenied"]']
    either = compile_pattern({"$or": [{"source": ["aws.s3"]}, {"region": ["us-east-1"]}]})
    assert either.explain(event) == [
        "$or: none of the 2 alternatives matched",
        '  alternative 1: source: "aws.ec2" did not match ["aws.s3"]',
        '  alternative 2: region: "eu-west-1" did not match ["us-east-1"]',
    ]
    assert compile_pattern({}).explain(event) == ["the empty pattern matches every event"]


# --- the seeded rules against real records -------------------------------------------------------------------

def load(path):
    with open(path) as f:
        return json.load(f)


def sample_records():
    """(label, raw record) for every CloudTrail record in the shared samples (streamalert's enveloped test events
    carry placeholder envelopes, so their detail is enveloped afresh)."""
    found = []
    for path in sorted(glob.glob(os.path.join(samples_path("cloudtrail", "stratus-red-team"), "*.json"))):
        found += [(os.path.basename(path), r) for r in load(path)]
    for path in sorted(glob.glob(os.path.join(samples_path("cloudtrail", "streamalert-rule-tests"), "*.json"))):
        for i, test in enumerate(load(path)):
            data = test["data"]
            records = data.get("Records") or ([data["detail"]] if "detail" in data else [data])
            found += [(f"{os.path.basename(path)}#{i}", r) for r in records if isinstance(r, dict)]
    return found


def hits(pattern):
    compiled = compile_pattern(pattern)
    return sorted(f"{label} {r.get('eventName')}" for label, r in sample_records() if matches(compiled, r))


def test_cidr_on_real_source_addresses():
    by_name = {label: r for label, r in sample_records()}
    stop = by_name["aws.defense-evasion.cloudtrail-stop.json"]  # 86.245.153.234
    assert matches(detail(sourceIPAddress=[{"cidr": "86.245.0.0/16"}]), stop)
    assert not matches(detail(sourceIPAddress=[{"cidr": "86.244.0.0/16"}]), stop)
    assert not matches(detail(sourceIPAddress=[{"cidr": "::/0"}]), stop)
    delete = by_name["aws.defense-evasion.cloudtrail-delete.json"]  # 08.1.250.216, zero-padded by anonymising
    assert matches(detail(sourceIPAddress=[{"cidr": "8.1.250.216/32"}]), delete)
    # Over every sample: the pattern agrees with a direct reading of the addresses.
    pattern = compile_pattern(detail(sourceIPAddress=[{"cidr": "253.0.0.0/8"}, {"cidr": "18.236.0.0/14"}]))
    expected = [r for _, r in sample_records() if str(r.get("sourceIPAddress", "")).startswith(("253.", "18.236."))]
    assert len(expected) > 50
    assert [r for _, r in sample_records() if matches(pattern, r)] == expected


def test_console_sign_in_sample():
    login = dict(sample_records())["aws.initial-access.console-login-without-mfa.json"]
    pattern = {"source": ["aws.signin"], "detail-type": ["AWS Console Sign In via CloudTrail"],
               "detail": {"additionalEventData": {"MFAUsed": [{"anything-but": "Yes"}]},
                          "responseElements": {"ConsoleLogin": ["Success"]}}}
    assert matches(pattern, login)
    assert not matches({**pattern, "detail-type": ["AWS API Call via CloudTrail"]}, login)


# --- moto's EventBridge as an oracle -------------------------------------------------------------------------

# Where moto differs, and why we do not follow it: it treats false as 0 (Python's bool is an int), it does not
# look inside arrays of objects and counts an empty array as present; cidr on ranges and zero-padded octets are
# this module's extensions; and moto writes its own account and region into the envelope.
MOTO_DIFFERS = {"false is not 0", "numeric ignores booleans", "array of objects", "array of objects: same element",
                "array: empty is absent", "cidr on a range inside", "cidr reads zero-padded octets as decimal",
                "account and region"}


def test_moto_eventbridge_agrees(sandbox):
    """Each case on its own bus (moto fires DISABLED rules, so rules cannot be parked), with an SQS target: a
    message arrives exactly when the pattern matches. Moto builds the envelope itself (its own id, account,
    time, region), so these cases look at source, detail-type and detail only."""
    from sandbox.operator import operator_client

    # moto itself is the oracle here, not the portal: its buses and queues are the administrator's
    events, sqs = (operator_client(service, settings.AWS_MANAGEMENT_ACCOUNT_ID) for service in ("events", "sqs"))
    checked = []
    for name in [name for name in CASES if name not in MOTO_DIFFERS]:
        pattern, fields, expected = CASES[name]
        base = record()
        raw = record(**{**fields, "requestParameters": {**base["requestParameters"],
                                                        **fields.get("requestParameters", {})}})
        event = envelope(raw)
        tag = uuid.uuid4().hex[:12]
        queue = sqs.create_queue(QueueName=f"oracle-{tag}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.create_event_bus(Name=f"bus-{tag}")
        events.put_rule(Name=f"rule-{tag}", EventBusName=f"bus-{tag}", EventPattern=json.dumps(pattern))
        events.put_targets(Rule=f"rule-{tag}", EventBusName=f"bus-{tag}", Targets=[{"Id": "q", "Arn": arn}])
        answer = events.put_events(Entries=[{"Source": event["source"], "DetailType": event["detail-type"],
                                             "Detail": json.dumps(event["detail"]), "EventBusName": f"bus-{tag}"}])
        assert answer["FailedEntryCount"] == 0, answer
        delivered = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        if delivered:
            assert json.loads(delivered[0]["Body"])["detail"] == event["detail"]
        assert (bool(delivered), matches(pattern, event)) == (expected, expected), name
        checked.append(name)
    assert len(checked) == len(CASES) - len(MOTO_DIFFERS) >= 75
