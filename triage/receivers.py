from django.db import transaction


def match_after_commit(sender, event_ids: list[str], **kwargs) -> None:
    """New events: the signatures look at them once they are committed."""
    from triage.tasks import match_events

    ids = list(event_ids)
    if ids:
        transaction.on_commit(lambda: match_events.delay(ids))
