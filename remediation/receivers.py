from django.db import transaction


def evaluate_after_commit(sender, resource_ids: list[int], **kwargs) -> None:
    """New configuration items: evaluate the rules on them once they are committed (change-triggered rules)."""
    from remediation.tasks import evaluate_resources

    ids = list(resource_ids)
    if ids:
        transaction.on_commit(lambda: evaluate_resources.delay(ids))
