"""Rules, findings, signatures, alerts, remediation policies and actions (issues 7 to 9)."""

from django.apps import AppConfig


class RemediationConfig(AppConfig):
    name = "remediation"

    def ready(self) -> None:
        from audit.inventory import TIMELINE_SOURCES
        from audit import handoffs
        from audit.signals import configuration_recorded
        from remediation import receivers, recovery, timeline

        configuration_recorded.connect(receivers.evaluate_after_commit, dispatch_uid="remediation-evaluate")
        handoffs.register("remediation.tasks.remediate_events", writes_only=True)
        recovery.runs_register()
        for source in (timeline.compliance_entries, timeline.remediation_entries):
            if source not in TIMELINE_SOURCES:
                TIMELINE_SOURCES.append(source)
        from catalog.launch_checks import LAUNCH_CHECKS
        from remediation.guardrails import launch_guardrails

        if launch_guardrails not in LAUNCH_CHECKS:
            LAUNCH_CHECKS.append(launch_guardrails)
