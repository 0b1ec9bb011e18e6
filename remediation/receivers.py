from django.db import transaction


def remediate_events_after_commit(sender, event_ids: list[str], **kwargs) -> None:
    """New write events: the event rules look at them once they are committed."""
    from remediation.tasks import remediate_events

    ids = list(event_ids)
    if ids:
        transaction.on_commit(lambda: remediate_events.delay(ids))


def evaluate_after_commit(sender, resource_ids: list[int], **kwargs) -> None:
    """New configuration items: evaluate the rules on them once they are committed (change-triggered rules)."""
    from remediation.tasks import evaluate_resources

    ids = list(resource_ids)
    if ids:
        transaction.on_commit(lambda: evaluate_resources.delay(ids))
