"""How a model's changes are recorded: simple-history's records with the request id, skipping saves that change
nothing. Models declare `history = ChangeRecords()`; nothing here is written per model."""

from django.db import models
from django.dispatch import receiver
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

from portal.request_id import request_id


class RequestIdHistory(models.Model):
    """The base of every historical record: the id of the request (or task chain) that made the change."""

    request_id = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        abstract = True


def _compared(fields) -> list:
    """The fields a change is judged on: not the timestamps Django sets on every save."""
    return [f for f in fields if not getattr(f, "auto_now", False)]


class ChangeRecords(HistoricalRecords):
    """HistoricalRecords on RequestIdHistory; a save (or a many-to-many edit) that leaves every recorded field as
    the last record has it makes no record."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("bases", [RequestIdHistory])
        super().__init__(*args, **kwargs)

    def create_historical_record(self, instance, history_type, using=None) -> None:
        if history_type == "~" and self._unchanged(instance):
            return
        super().create_historical_record(instance, history_type, using=using)

    def _unchanged(self, instance) -> bool:
        last = getattr(instance, self.manager_name).order_by("-history_date", "-history_id").first()
        if last is None:
            return False
        if any(getattr(last, f.attname) != getattr(instance, f.attname)
               for f in _compared(self.fields_included(instance))):
            return False
        return all(self._m2m_ids(last, field) == self._m2m_ids(instance, field)
                   for field in self.get_m2m_fields_from_model(instance.__class__))

    @staticmethod
    def _m2m_ids(obj, field) -> set:
        """The related ids of a many-to-many field, on the live object or on a historical record."""
        rows = getattr(obj, field.name)
        target = field.m2m_reverse_field_name() if hasattr(obj, "history_id") else None
        if target is None:
            return set(rows.values_list("pk", flat=True))
        return set(rows.values_list(target, flat=True))


@receiver(pre_create_historical_record, dispatch_uid="portal-history-request-id")
def _request_id_note(sender, history_instance, **kwargs) -> None:
    if isinstance(history_instance, RequestIdHistory):
        history_instance.request_id = request_id.get() or ""
