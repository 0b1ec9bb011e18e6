"""Org context from the sandbox's Organizations and IAM, kept current by events; the CSV import; the page."""

import pytest
from django.conf import settings

from sandbox.operator import operator_client
from sandbox.testing import deliver as _deliver
from sandbox.testing import kit
from triage import org
from triage.models import OrgAccount, OrgSync, Principal

ACCOUNT = "111111111111"


pytestmark = pytest.mark.usefixtures("commit_now")  # on_commit work runs at once (tasks are eager)


@pytest.fixture
def world(people, sandbox):
    from sandbox.bootstrap import bootstrap_from_portal

    bootstrap_from_portal()
    return sandbox


def test_a_management_account_without_organisation_says_so(people, sandbox):
    kit(settings.AWS_MANAGEMENT_ACCOUNT_ID)  # the management kit (GuardrailOrganizations): its bus policy names the
    # organisation, so the kit's deployment made one; the platform team has since closed it (no member accounts)
    operator_client("organizations", settings.AWS_MANAGEMENT_ACCOUNT_ID).delete_organization()
    assert org.organizations_sync().error == "The management account has no organisation"


def test_accounts_units_and_tags_come_from_organizations(world):
    client = operator_client("organizations", settings.AWS_MANAGEMENT_ACCOUNT_ID)  # the platform team's admin
    # The bootstrap made the organisation: the portal's member accounts are AWS Organizations accounts.
    assert client.describe_organization()["Organization"]["MasterAccountId"] == settings.AWS_MANAGEMENT_ACCOUNT_ID
    root = client.list_roots()["Roots"][0]["Id"]
    workloads = client.create_organizational_unit(ParentId=root, Name="Workloads")["OrganizationalUnit"]["Id"]
    prod = client.create_organizational_unit(ParentId=workloads, Name="Prod")["OrganizationalUnit"]["Id"]
    made = client.create_account(AccountName="claims-prod", Email="claims@example.com",
                                 Tags=[{"Key": "team", "Value": "claims"}])["CreateAccountStatus"]["AccountId"]
    client.move_account(AccountId=made, SourceParentId=root, DestinationParentId=prod)
    run = org.organizations_sync()
    assert run.status == "SUCCEEDED" and run.counts["accounts"] >= 2
    account = OrgAccount.objects.get(account_id=made)
    assert (account.name, account.ou_path, account.tags) == ("claims-prod", "Root/Workloads/Prod", {"team": "claims"})
    client.tag_resource(ResourceId=made, Tags=[{"Key": "team", "Value": "claims-platform"}])
    again = org.organizations_sync()
    assert {"what": f"account {made}", "field": "tags", "before": {"team": "claims"},
            "after": {"team": "claims-platform"}} in again.changes
    assert org.organizations_sync().counts["changes"] == 0  # nothing new


def test_iam_tags_give_team_and_owner_and_events_keep_them_current(world, people):
    iam = operator_client("iam", ACCOUNT)  # the account's administrator
    iam.create_user(UserName="billing-bot", Tags=[{"Key": "team", "Value": "payments"},
                                                  {"Key": "owner", "Value": "daisy@example.com"}])
    run = org.iam_sync()
    assert run.status == "SUCCEEDED" and run.counts["users"] >= 1
    bot = Principal.objects.get(account_id=ACCOUNT, name="billing-bot")
    assert (bot.kind, bot.team, bot.owner_email) == ("user", "payments", "daisy@example.com")
    assert Principal.objects.filter(account_id=ACCOUNT, kind="role", name="GuardrailPortal").exists()
    _deliver(world)  # what the bootstrap did, first
    iam.tag_user(UserName="billing-bot", Tags=[{"Key": "team", "Value": "research"}])
    _deliver(world)  # TagUser arrives through CloudTrail: the context is read again
    assert Principal.objects.get(pk=bot.pk).team == "research"
    last = OrgSync.objects.filter(source="iam").first()
    assert "TagUser" in last.trigger and any(c["field"] == "team" for c in last.changes)
    iam.delete_user(UserName="billing-bot")
    org.iam_sync()
    assert not Principal.objects.filter(name="billing-bot").exists()


def test_a_csv_import_and_its_refusals(people):
    good = ("kind,account_id,name,arn,team,owner_email,ou_path,tags\n"
            "account,444444444444,claims-dev,,claims,,Root/Dev,env=dev;cost-center=42\n"
            "principal,444444444444,ci,arn:aws:iam::444444444444:role/ci,claims,ci@example.com,,\n")
    run = org.csv_import(good)
    assert run.status == "SUCCEEDED" and run.counts == {"rows": 2, "changes": 2}
    assert OrgAccount.objects.get(account_id="444444444444").tags == {"env": "dev", "cost-center": "42",
                                                                      "team": "claims"}
    assert Principal.objects.get(arn="arn:aws:iam::444444444444:role/ci").kind == "role"
    for text, message in (("name\nx\n", "lacks account_id, kind"),
                          ("kind,account_id\nbucket,444444444444\n", "Line 2: kind must be"),
                          ("kind,account_id\naccount,12345\n", "Line 2: account_id must be 12 digits"),
                          ("kind,account_id,tags\naccount,444444444444,env\n", "Line 2: tags must read"),
                          ("kind,account_id,arn\nprincipal,444444444444,\n", "Line 2: a principal needs its arn")):
        failed = org.csv_import(text)
        assert failed.status == "FAILED" and message in failed.error, (text, failed.error)
    mixed = "kind,account_id,name\naccount,555555555555,ok\naccount,nope,bad\n"
    assert org.csv_import(mixed).status == "FAILED"
    assert not OrgAccount.objects.filter(account_id="555555555555").exists()  # nothing half-imported


def test_the_page_shows_each_source_and_takes_a_csv(client, people):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(people.admin)
    upload = SimpleUploadedFile("org.csv", b"kind,account_id,name,team\naccount,444444444444,claims-dev,claims\n",
                                content_type="text/csv")
    assert client.post("/triage/org/sync/", {"csv": upload}).status_code == 302
    page = client.get("/triage/org/").content.decode()
    assert "claims-dev" in page and "csv" in page and "not in the portal" in page
    client.force_login(people.auditor)
    assert client.get("/triage/org/").status_code == 200
    assert client.post("/triage/org/sync/").status_code == 403
