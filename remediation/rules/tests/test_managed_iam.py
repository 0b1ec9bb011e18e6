"""The MFA rules: from IAM's credential report (rows as the CSV gives them) or the user's recorded configuration,
on hand-written data and on users made in the sandbox AWS."""

import csv
import io
import time

from audit.config.collectors import iam as collectors
from portal import aws
from sandbox.testing import kit, operator_clients
from remediation.rules.base import (
    COMPLIANT,
    INSUFFICIENT_DATA,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    AccountView,
    Evaluation,
    ResourceView,
)
from remediation.rules.managed import rule_by_name

ACCOUNT = "111111111111"
REGION = "us-east-1"
CONSOLE_MFA = rule_by_name("mfa-enabled-for-iam-console-access")
ROOT_MFA = rule_by_name("root-account-mfa-enabled")
PASSWORD = "Console-password-1!-never-seen"


def row(user, password_enabled="true", mfa_active="false"):
    return {"user": user, "arn": f"arn:aws:iam::{ACCOUNT}:user/{user}", "password_enabled": password_enabled,
            "mfa_active": mfa_active, "access_key_1_active": "false"}


def user(name="alice", login=True, devices=(), report=None, configuration=None) -> ResourceView:
    config = configuration if configuration is not None else {
        "userName": name, "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
        "loginProfile": {"createDate": "2024-08-01T12:00:00Z", "passwordResetRequired": False} if login else None,
        "mfaDevices": [{"serialNumber": s, "enableDate": "2024-08-01T12:00:00Z"} for s in devices]}
    context = {} if report is None else {"credential_report": report}
    return ResourceView("AWS::IAM::User", name, ACCOUNT, "global", config, context=context)


def account(report=None) -> AccountView:
    return AccountView(ACCOUNT, [REGION], {}, context={} if report is None else {"credential_report": report})


# ------------------------------------------------------------------------------------------- console users


def test_console_mfa_from_the_credential_report():
    no_mfa = CONSOLE_MFA.evaluate(user(report=[row("bob"), row("alice")]), {})
    assert no_mfa == Evaluation(NON_COMPLIANT, "alice has a console password and no MFA (credential report)")
    with_mfa = CONSOLE_MFA.evaluate(user(report=[row("alice", mfa_active="true")]), {})
    assert with_mfa == Evaluation(COMPLIANT, "alice has a console password and MFA active (credential report)")
    for password in ("false", "not_supported"):
        result = CONSOLE_MFA.evaluate(user(report=[row("alice", password_enabled=password)]), {})
        assert result == Evaluation(COMPLIANT, "alice has no console password (credential report)")
    # the report wins over the configuration (it is what IAM says now)
    assert CONSOLE_MFA.evaluate(user(devices=["arn:mfa"], report=[row("alice")]), {}).status == NON_COMPLIANT


def test_console_mfa_matches_report_rows_by_arn_too():
    renamed = dict(row("someone-else"), arn=f"arn:aws:iam::{ACCOUNT}:user/alice")
    assert CONSOLE_MFA.evaluate(user(report=[renamed]), {}).status == NON_COMPLIANT


def test_console_mfa_from_the_configuration_without_a_report_row():
    assert CONSOLE_MFA.evaluate(user(), {}) == Evaluation(NON_COMPLIANT, "alice has a console password and no MFA device")
    assert CONSOLE_MFA.evaluate(user(report=[row("bob")]), {}).status == NON_COMPLIANT
    assert CONSOLE_MFA.evaluate(user(devices=["arn:aws:iam::111111111111:mfa/alice"]), {}) == Evaluation(
        COMPLIANT, "alice has a console password and MFA device arn:aws:iam::111111111111:mfa/alice")
    assert CONSOLE_MFA.evaluate(user(login=False), {}) == Evaluation(COMPLIANT, "alice has no console password")
    assert CONSOLE_MFA.evaluate(user(configuration={"userName": "alice"}), {}).status == INSUFFICIENT_DATA
    assert CONSOLE_MFA.evaluate(user(report=[row("alice", password_enabled="")]), {}).status == INSUFFICIENT_DATA
    role = ResourceView("AWS::IAM::Role", "r", ACCOUNT, "global", {})
    assert CONSOLE_MFA.evaluate(role, {}).status == NOT_APPLICABLE


# ------------------------------------------------------------------------------------------- root


def test_root_account_mfa_from_the_report():
    assert ROOT_MFA.evaluate_account(account([row("<root_account>", "not_supported", "true")]), {}) == Evaluation(
        COMPLIANT, "The root user has MFA active")
    without = ROOT_MFA.evaluate_account(account([row("<root_account>", "not_supported", "false"), row("alice")]), {})
    assert without == Evaluation(NON_COMPLIANT, "The root user has no MFA (mfa_active false)")
    assert ROOT_MFA.evaluate_account(account(), {}) == Evaluation(
        INSUFFICIENT_DATA, "No IAM credential report for the account")
    assert ROOT_MFA.evaluate_account(account([row("alice")]), {}) == Evaluation(
        INSUFFICIENT_DATA, "The credential report has no <root_account> row")


# ------------------------------------------------------------------------------------------- in the sandbox


def clients(service, region):
    return aws.client(service, account_id=ACCOUNT, region=REGION if region == "global" else region)


def credential_report(client) -> list[dict[str, str]]:
    """IAM's credential report as dict rows: generate until COMPLETE, get, parse the CSV."""
    for _ in range(50):
        if client.generate_credential_report()["State"] == "COMPLETE":
            break
        time.sleep(0.1)
    content = client.get_credential_report()["Content"]
    return list(csv.DictReader(io.StringIO(content.decode() if isinstance(content, bytes) else content)))


def recorded(name, report=None) -> ResourceView:
    snapshot = collectors.UserCollector().get(clients, "global", name)
    return ResourceView(snapshot.resource_type, snapshot.resource_id, ACCOUNT, snapshot.region,
                        snapshot.configuration, tags=snapshot.tags,
                        context={} if report is None else {"credential_report": report})


def test_console_mfa_of_sandbox_users_from_their_credential_report(sandbox):
    kit(ACCOUNT)
    client = operator_clients(ACCOUNT, REGION)("iam", "global")  # the users people make; the portal reads them
    client.create_user(UserName="rules-alice")
    client.create_login_profile(UserName="rules-alice", Password=PASSWORD)
    client.create_user(UserName="rules-robot")  # no console password

    report = credential_report(client)
    assert {r["user"]: r["password_enabled"] for r in report if r["user"].startswith("rules-")} == {
        "rules-alice": "true", "rules-robot": "false"}
    assert CONSOLE_MFA.evaluate(recorded("rules-alice", report), {}) == Evaluation(
        NON_COMPLIANT, "rules-alice has a console password and no MFA (credential report)")
    assert CONSOLE_MFA.evaluate(recorded("rules-robot", report), {}).status == COMPLIANT
    assert CONSOLE_MFA.evaluate(recorded("rules-alice"), {}).status == NON_COMPLIANT  # from the configuration

    serial = client.create_virtual_mfa_device(VirtualMFADeviceName="rules-alice")["VirtualMFADevice"]["SerialNumber"]
    client.enable_mfa_device(UserName="rules-alice", SerialNumber=serial, AuthenticationCode1="123456",
                             AuthenticationCode2="654321")
    report = credential_report(client)
    assert CONSOLE_MFA.evaluate(recorded("rules-alice", report), {}) == Evaluation(
        COMPLIANT, "rules-alice has a console password and MFA active (credential report)")
    assert CONSOLE_MFA.evaluate(recorded("rules-alice"), {}).status == COMPLIANT  # from the configuration

    # the sandbox's report has no <root_account> row: the root rule cannot tell
    assert not any(r["user"] == "<root_account>" for r in report)
    assert ROOT_MFA.evaluate_account(account(report), {}).status == INSUFFICIENT_DATA
