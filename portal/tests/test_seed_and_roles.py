from io import StringIO

from django.contrib.auth.models import Group
from django.core.management import call_command

from portal.models import Account, Team
from portal.roles import Role, is_admin, is_auditor, is_developer
from portal.tasks import worker_heartbeat
from portal.selectors import heartbeat_get


def test_it_seeds_the_demo_twice_without_duplicates(db):
    for _ in range(2):
        call_command("seed_demo", stdout=StringIO())
    assert Team.objects.count() == 3
    assert Account.objects.count() == 3
    assert set(Account.objects.values_list("team__slug", flat=True)) == {"platform", "payments", "research"}


def test_it_gives_each_demo_person_one_role(people):
    assert is_admin(people.admin) and not is_developer(people.admin)
    assert is_developer(people.daisy) and not is_admin(people.daisy)
    assert is_auditor(people.auditor) and not is_admin(people.auditor)


def test_it_gives_roles_their_permissions(people):
    admin = set(Group.objects.get(name=Role.ADMIN).permissions.values_list("codename", flat=True))
    auditor = set(Group.objects.get(name=Role.AUDITOR).permissions.values_list("codename", flat=True))
    assert {"add_account", "change_account", "view_account"} <= admin
    assert auditor == {"view_account", "view_team", "view_portfolio", "view_product", "view_productversion",
                       "view_constraint"}
    assert people.auditor.has_perm("portal.view_account")
    assert not people.auditor.has_perm("portal.change_account")


def test_it_records_the_worker_heartbeat(db):
    worker_heartbeat.delay()
    assert heartbeat_get(name="worker") is not None
