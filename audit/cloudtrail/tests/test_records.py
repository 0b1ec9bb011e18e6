import datetime as dt
import json
from pathlib import Path

import pytest

from audit.cloudtrail.records import BadRecord, NormalizedEvent, normalize, unwrap, unwrap_all
from audit.cloudtrail.resources import Resource

def _find_samples() -> Path:
    # The brief says parents[3] / "shared" / "samples"; in this checkout the samples
    # sit one level higher (/work/shared next to /work/main), so look in each ancestor.
    here = Path(__file__).resolve()
    for base in here.parents[3:6]:
        candidate = base / "shared" / "samples" / "cloudtrail"
        if candidate.is_dir():
            return candidate
    return here.parents[3] / "shared" / "samples" / "cloudtrail"


SAMPLES = _find_samples()
STRATUS = SAMPLES / "stratus-red-team"
STREAMALERT = SAMPLES / "streamalert-rule-tests"

needs_stratus = pytest.mark.skipif(
    not STRATUS.is_dir(), reason=f"CloudTrail samples not present at {STRATUS}"
)
needs_streamalert = pytest.mark.skipif(
    not STREAMALERT.is_dir(), reason=f"CloudTrail samples not present at {STREAMALERT}"
)


def _stratus(name):
    return json.loads((STRATUS / f"{name}.json").read_text())


# streamalert test cases that really lack usable required fields:
# (file, description) -> expected BadRecord reason fragment
STREAMALERT_BAD = {
    ("cloudtrail_aws_config.json", 0): "eventTime",
    ("cloudtrail_aws_config.json", 1): "eventTime",
    ("cloudtrail_aws_config.json", 2): "eventTime",
    ("cloudtrail_network_acl_ingress_anywhere.json", 0): "eventTime",
    ("cloudtrail_network_acl_ingress_anywhere.json", 1): "eventTime",
    ("cloudtrail_put_bucket_acl.json", 0): "eventTime",
    ("cloudtrail_put_bucket_acl.json", 1): "eventTime",
    ("cloudtrail_put_object_acl_public.json", 0): "eventTime",
    ("cloudtrail_put_object_acl_public.json", 1): "eventTime",
    ("cloudtrail_put_object_acl_public.json", 2): "missing required field(s): eventID",
    ("cloudtrail_put_object_acl_public.json", 3): "missing required field(s): eventID",
    ("cloudtrail_root_account_usage.json", 0): "eventTime",
    ("cloudtrail_root_account_usage.json", 1): "eventTime",
}


@needs_stratus
def test_it_normalizes_every_stratus_record():
    files = sorted(STRATUS.glob("*.json"))
    assert files
    total = 0
    for path in files:
        for record in json.loads(path.read_text()):
            ev = normalize(unwrap(record))
            assert isinstance(ev, NormalizedEvent)
            assert ev.event_time.tzinfo is not None and ev.event_time.utcoffset() == dt.timedelta(0)
            assert ev.account_id and ev.event_id and ev.event_name
            assert isinstance(ev.read_only, bool) and isinstance(ev.mfa_authenticated, bool)
            json.dumps(ev.as_dict(), default=str)
            total += 1
    assert total > 300


@needs_streamalert
def test_it_normalizes_every_streamalert_case_or_raises_bad_record():
    seen_bad = set()
    ok = 0
    for path in sorted(STREAMALERT.glob("*.json")):
        for i, case in enumerate(json.loads(path.read_text())):
            records = unwrap_all(case["data"])
            assert len(records) == 1, (path.name, i)
            key = (path.name, i)
            if key in STREAMALERT_BAD:
                with pytest.raises(BadRecord) as err:
                    normalize(records[0])
                assert STREAMALERT_BAD[key] in err.value.reason
                seen_bad.add(key)
            else:
                ev = normalize(records[0])
                assert ev.event_name == records[0]["eventName"]
                ok += 1
    assert seen_bad == set(STREAMALERT_BAD)
    assert ok >= 40


@needs_stratus
def test_it_extracts_open_port_22_ingress_details():
    (record,) = _stratus("aws.exfiltration.ec2-security-group-open-port-22-ingress")
    ev = normalize(record)
    assert ev.event_name == "AuthorizeSecurityGroupIngress"
    assert ev.event_source == "ec2.amazonaws.com"
    assert ev.event_time == dt.datetime(2024, 8, 1, 12, 23, 55, tzinfo=dt.timezone.utc)
    assert ev.identity_type == "IAMUser"
    assert ev.user_name == "christophe"
    assert ev.access_key_id == "AKIAXW7UJ577KFYIAHIM"
    assert ev.account_id == "032092706103"
    assert ev.read_only is False
    assert ev.resources == (
        Resource(
            "AWS::EC2::SecurityGroup",
            "sg-003dc7f1f1c686164",
            "arn:aws:ec2:us-northeast-1r:032092706103:security-group/sg-003dc7f1f1c686164",
        ),
    )


@needs_stratus
def test_it_extracts_assumed_role_session_issuer():
    record = _stratus("aws.credential-access.ec2-get-password-data")[0]
    ev = normalize(record)
    assert ev.identity_type == "AssumedRole"
    assert ev.session_issuer_arn == (
        "arn:aws:iam::457448411975:role/stratus-red-team-ec2-get-password-data-role"
    )
    assert ev.session_issuer_name == "stratus-red-team-ec2-get-password-data-role"
    assert ev.user_name == "aws-go-sdk-1722375070115152000"
    assert ev.mfa_authenticated is False
    assert ev.read_only is True  # "GetPasswordData" record carries readOnly itself or by prefix
    assert ("AWS::EC2::Instance", "i-i2jnm5swa59p4fxg") in {(r.type, r.id) for r in ev.resources}


@needs_stratus
def test_it_reports_console_login_without_mfa():
    (record,) = _stratus("aws.initial-access.console-login-without-mfa")
    ev = normalize(record)
    assert ev.event_name == "ConsoleLogin"
    assert ev.event_type == "AwsConsoleSignIn"
    assert ev.mfa_authenticated is False
    assert ev.user_name == "stratus-red-team-nmfalu-jfzdtsvchl"


@needs_streamalert
def test_it_reports_console_login_with_mfa_and_root_user_name():
    case = json.loads((STREAMALERT / "cloudtrail_root_account_usage.json").read_text())[0]
    record = dict(unwrap(case["data"]), eventID="x", eventTime="2024-01-01T00:00:00Z")
    ev = normalize(record)
    assert ev.mfa_authenticated is True
    assert ev.user_name == "root"
    assert ev.identity_type == "Root"


@needs_stratus
def test_it_spot_checks_resources_of_real_records():
    def types_ids(name, index=0):
        return {(r.type, r.id) for r in normalize(_stratus(name)[index]).resources}

    assert ("AWS::CloudTrail::Trail", "stratus-red-team-cloudtraild-trail-kvrwohmiai") in types_ids(
        "aws.defense-evasion.cloudtrail-delete"
    )
    assert ("AWS::EC2::FlowLog", "fl-0e17aa62a21d4bbfe") in types_ids(
        "aws.defense-evasion.vpc-remove-flow-logs"
    )
    assert ("AWS::RDS::DBSnapshot", "exfiltration") in types_ids("aws.exfiltration.rds-share-snapshot")
    assert ("AWS::EC2::Snapshot", "snap-041993b54a9b3af6f") in types_ids(
        "aws.exfiltration.ec2-share-ebs-snapshot"
    )
    assert ("AWS::EC2::Image", "ami-de1fbCab6ccB03e6D") in types_ids("aws.exfiltration.ec2-share-ami")
    admin = types_ids("aws.persistence.iam-create-admin-user")
    assert ("AWS::IAM::User", "malicious-iam-user") in admin
    assert ("AWS::IAM::Policy", "AdministratorAccess") in admin
    assert ("AWS::Lambda::Function", "stratus-red-team-backdoor-f-func") in types_ids(
        "aws.persistence.lambda-backdoor-function"
    )
    params = types_ids("aws.credential-access.ssm-retrieve-securestring-parameters", 2)
    assert ("AWS::SSM::Parameter", "/credentials/stratus-red-team/credentials-1") in params
    secret = normalize(_stratus("aws.credential-access.secretsmanager-retrieve-secrets")[0]).resources
    assert any(r.type == "AWS::SecretsManager::Secret" and r.arn.startswith("arn:aws:secretsmanager:")
               for r in secret)


def test_it_raises_bad_record_for_missing_fields_and_bad_time():
    base = {"eventID": "1", "eventTime": "2024-01-01T00:00:00Z", "eventName": "X",
            "eventSource": "ec2.amazonaws.com"}
    for field in ("eventID", "eventTime", "eventName", "eventSource"):
        rec = dict(base)
        del rec[field]
        with pytest.raises(BadRecord, match=field):
            normalize(rec)
    with pytest.raises(BadRecord, match="eventTime"):
        normalize(dict(base, eventTime="yesterday"))
    with pytest.raises(BadRecord):
        normalize(["not", "a", "dict"])


def test_it_derives_read_only_and_accepts_string_booleans():
    base = {"eventID": "1", "eventTime": "2024-01-01T01:02:03+02:00",
            "eventSource": "ec2.amazonaws.com"}
    assert normalize(dict(base, eventName="DescribeInstances")).read_only is True
    assert normalize(dict(base, eventName="LookupEvents")).read_only is True
    assert normalize(dict(base, eventName="RunInstances")).read_only is False
    assert normalize(dict(base, eventName="RunInstances", readOnly="true")).read_only is True
    assert normalize(dict(base, eventName="GetThing", readOnly="false")).read_only is False
    assert normalize(dict(base, eventName="GetThing", readOnly=False)).read_only is False
    ev = normalize(dict(base, eventName="X"))
    assert ev.event_time == dt.datetime(2023, 12, 31, 23, 2, 3, tzinfo=dt.timezone.utc)


def test_it_takes_account_from_identity_and_mfa_from_session():
    rec = {"eventID": "1", "eventTime": "2024-01-01T00:00:00.123Z", "eventName": "CreateUser",
           "eventSource": "iam.amazonaws.com", "errorCode": "AccessDenied", "errorMessage": "no",
           "userIdentity": {"type": "AssumedRole", "accountId": "111122223333",
                            "arn": "arn:aws:sts::111122223333:assumed-role/Admin/alice",
                            "sessionContext": {"attributes": {"mfaAuthenticated": "true"},
                                               "sessionIssuer": {"arn": "arn:aws:iam::111122223333:role/Admin",
                                                                 "userName": "Admin"}}}}
    ev = normalize(rec)
    assert ev.account_id == "111122223333"
    assert ev.user_name == "alice"
    assert ev.mfa_authenticated is True
    assert ev.session_issuer_name == "Admin"
    assert (ev.error_code, ev.error_message) == ("AccessDenied", "no")
    assert ev.as_dict()["resources"] == []


def test_it_unwraps_eventbridge_events_and_records_objects():
    inner = {"eventID": "1", "eventName": "X"}
    event = {"detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2", "detail": inner}
    assert unwrap(event) is inner
    assert unwrap(inner) is inner
    assert unwrap_all({"Records": [inner, event]}) == [inner, inner]
    assert unwrap_all([event]) == [inner]
