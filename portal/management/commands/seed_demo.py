from django.core.management.base import BaseCommand

from catalog.demo import catalog_demo_seed
from portal.demo import demo_seed
from remediation.demo import policies_demo_seed, rules_demo_seed
from triage.builtin import builtin_seed
from triage.demo import threat_lists_demo_seed


class Command(BaseCommand):
    help = "Create or refresh the demo people, teams, accounts and catalog (idempotent)."

    def handle(self, *args, **options) -> None:
        counts = demo_seed()
        self.stdout.write(self.style.SUCCESS(
            "Demo ready: {people} people, {teams} teams, {accounts} accounts.".format(**counts)
        ))
        catalog = catalog_demo_seed()
        self.stdout.write(self.style.SUCCESS(
            "Demo catalog: {portfolios} portfolio(s) and {products} product(s) added.".format(**catalog)
        ))
        rules = rules_demo_seed()
        self.stdout.write(self.style.SUCCESS("Demo rules: {rules} rule(s) added.".format(**rules)))
        policies = policies_demo_seed()
        self.stdout.write(self.style.SUCCESS("Demo remediation: {policies} policy(ies) added.".format(**policies)))
        signatures = builtin_seed()
        self.stdout.write(self.style.SUCCESS("Demo signatures: {signatures} built-in signature(s) added.".format(
            **signatures)))
        lists = threat_lists_demo_seed()
        self.stdout.write(self.style.SUCCESS("Demo threat lists: {lists} added.".format(**lists)))
