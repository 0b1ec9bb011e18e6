"""Where remediation plugs into the others' registries (the app itself: see remediation/__init__.py)."""

from django.apps import AppConfig


class RemediationConfig(AppConfig):
    name = "remediation"

    def ready(self) -> None:
        from audit.timeline import TIMELINE_SOURCES
        from audit import handoffs
        from audit.signals import configuration_recorded
        from remediation import receivers, run_recovery, timeline

        configuration_recorded.connect(receivers.evaluate_after_commit, dispatch_uid="remediation-evaluate")
        handoffs.register("remediation.tasks.remediate_events", writes_only=True)
        run_recovery.runs_register()
        for source in (timeline.compliance_entries, timeline.remediation_entries):
            if source not in TIMELINE_SOURCES:
                TIMELINE_SOURCES.append(source)
        from catalog.launch_checks import LAUNCH_CHECKS
        from remediation.launch_guardrails import launch_guardrails

        if launch_guardrails not in LAUNCH_CHECKS:
            LAUNCH_CHECKS.append(launch_guardrails)
        from portal import seeding
        from remediation.builtin import policies_install, rules_install
        from remediation.demo import demo_policies_enforced_seed, demo_rules_seed

        seeding.register("rules", rules_install, order=20, builtin=True,
                         message="Built-in rules: {rules} rule(s) added.")
        seeding.register("demo-rules", demo_rules_seed, order=21, message="Demo rules: {rules} rule(s) added.")
        seeding.register("demo-policies", demo_policies_enforced_seed, order=29,
                         message="Demo remediation: {policies} built-in policy(ies) added enforcing.")
        seeding.register("policies", policies_install, order=30, builtin=True,
                         message="Built-in remediation policies: {policies} policy(ies) added, in dry run.")
        self._history_register()

    @staticmethod
    def _history_register() -> None:
        from django.urls import reverse

        from portal.changelog.registry import changelog_register
        from remediation.selectors import exceptions_visible_to
        from remediation.models import Policy, Rule, RuleException

        changelog_register(Rule, visible=lambda user: Rule.objects.all())
        changelog_register(RuleException, visible=lambda user: exceptions_visible_to(user=user),
                           url=lambda e: reverse("remediation:exception-list"))
        changelog_register(Policy, visible=lambda user: Policy.objects.all(),
                           url=lambda p: reverse("remediation:policy-detail", args=[p.name]))
