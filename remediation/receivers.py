from portal import queue


def evaluate_after_commit(sender, resource_ids: list[int], **kwargs) -> None:
    """New configuration items: evaluate the rules on them once they are committed (change-triggered rules)."""
    ids = list(resource_ids)
    if ids:
        queue.enqueue("remediation.tasks.evaluate_resources", ids)
