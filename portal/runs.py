"""Background runs as rows: one base for everything a worker claims, carries out and finishes.

A run waits (its message sent after the commit), is claimed by one worker (a conditional UPDATE that counts the
attempt in SQL), and is finished, released (back to waiting, to be claimed again) or given up on (FAILED with
why) once it has been tried `max_attempts` times. Each app registers its run models in AppConfig.ready():

    runs.register(RecorderRun, task="audit.tasks.recorder_run", stale_after=timedelta(minutes=30), max_attempts=5)

and one periodic task (`portal.tasks.runs_reconcile`) hands out again what waits too long (its message was lost)
or runs too long (its worker stopped), by its clock: once per `stale_after`, by one reconciler. portal knows the
models only through the registry, so it imports no app above it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.db import models
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from portal import queue

log = logging.getLogger(__name__)


class BackgroundRun(models.Model):
    """A row a worker claims. Subclasses keep their own status choices and name their states below; a model that
    had its own column for when it was claimed or why it failed names it (`run_claimed_field`, `run_error_field`)
    and drops the base's with `claimed = None` / `last_error = None`."""

    status = models.CharField(max_length=12)
    attempts = models.PositiveIntegerField(default=0, help_text="How often a worker has taken it on.")
    claimed = models.DateTimeField(null=True, blank=True, help_text="When a worker last claimed it.")
    updated = models.DateTimeField(auto_now=True)
    last_error = models.TextField(blank=True)

    run_waiting: ClassVar[tuple[str, ...]] = ("PENDING",)  # claimable; a release puts it back in the first
    run_running: ClassVar[tuple[str, ...]] = ("RUNNING",)
    run_failed: ClassVar[str] = "FAILED"
    run_claimed_field: ClassVar[str] = "claimed"
    run_error_field: ClassVar[str] = "last_error"

    class Meta:
        abstract = True

    @classmethod
    def run_claim(cls, pk: int, *, waiting: tuple[str, ...] | None = None, to: str | None = None, **fields) -> bool:
        """Waiting → running, for one claimer only; the attempt is counted in the same UPDATE."""
        now = timezone.now()
        return bool(cls.objects.filter(pk=pk, status__in=waiting or cls.run_waiting).update(
            status=to or cls.run_running[0], attempts=F("attempts") + 1, updated=now,
            **{cls.run_claimed_field: now}, **fields))

    @classmethod
    def run_finish(cls, pk: int, *, status: str, error: str = "", **fields) -> bool:
        """Running → `status` (done, failed, quarantined...), with why when it went wrong."""
        return bool(cls.objects.filter(pk=pk, status__in=cls.run_running).update(
            status=status, updated=timezone.now(), **{cls.run_error_field: error[:2000]}, **fields))

    @classmethod
    def run_release(cls, pk: int, *, error: str = "", **fields) -> bool:
        """Running → waiting, to be claimed again (by a retry or the reconciler)."""
        return bool(cls.objects.filter(pk=pk, status__in=cls.run_running).update(
            status=cls.run_waiting[0], updated=timezone.now(), **{cls.run_error_field: error[:2000]}, **fields))

    @classmethod
    def run_give_up(cls, pk: int, *, error: str, status: tuple[str, ...] | None = None) -> bool:
        """Left FAILED with why, not handed out again; logged."""
        given_up = bool(cls.objects.filter(pk=pk, status__in=status or cls.run_running).update(
            status=cls.run_failed, updated=timezone.now(), **{cls.run_error_field: error[:2000]}))
        if given_up:
            log.error("%s %s given up: %s", cls._meta.label, pk, error)
        return given_up


@dataclass(frozen=True)
class Registration:
    model: type[BackgroundRun]
    task: str | Callable[[Any], str]  # a task's name (or the row's), taking `args(row)`
    stale_after: timedelta  # waiting this long: its message was lost
    max_attempts: int
    running_after: timedelta | None = None  # running this long: its worker stopped (default: stale_after)
    waiting_clock: str = "updated"  # the field the waiting are timed by; "updated" is also the hand-out's claim
    running_clock: str = "updated"
    args: Callable[[Any], tuple] = lambda row: (row.pk,)
    stuck: Callable[[QuerySet, datetime], QuerySet] | None = None  # narrows the stale rows (a backoff, a filter)
    release: Callable[[Any, datetime], bool] | None = None  # a stopped run back to waiting (the default: status)
    give_up: Callable[[Any, str], bool] | None = None
    hand_out: Callable[[Any], bool] | None = None  # sends a stale row itself (a task chosen by its state)
    counts_hand_outs: bool = False  # no single claim (a launch's steps): each hand-out is an attempt
    keep_done: timedelta | None = None  # finished rows older than this are deleted
    also: Callable[[datetime], int] | None = None  # runs that should exist and do not (their request was lost):
    # asked for and sent, before the stale ones are looked at; returns how many were sent

    @property
    def label(self) -> str:
        return self.model._meta.label

    def task_of(self, row: Any) -> str:
        return self.task(row) if callable(self.task) else self.task


REGISTRY: dict[str, Registration] = {}


def register(model: type[BackgroundRun], *, task: str | Callable[[Any], str], stale_after: timedelta,
             max_attempts: int, **options: Any) -> Registration:
    registration = Registration(model, task, stale_after, max_attempts, **options)
    REGISTRY[registration.label] = registration
    return registration


def registered() -> list[Registration]:
    return sorted(REGISTRY.values(), key=lambda r: r.label)


def reconcile_all(*, now: datetime | None = None) -> int:
    """Every registered model's stale runs handed out again (or given up on); how many were sent."""
    now = now or timezone.now()
    return sum(reconcile(registration, now=now) for registration in registered())


def reconcile(registration: Registration, *, now: datetime | None = None, limit: int = 1000) -> int:
    """Runs whose message was lost (waiting too long) or whose worker stopped (running too long): each claimed by
    its clock (timed by `updated`, one reconciler hands it out once per `stale_after`); a stopped run tried
    `max_attempts` times already is left FAILED instead."""
    model = registration.model
    now = now or timezone.now()
    if registration.keep_done is not None:
        model.objects.exclude(status__in=model.run_waiting + model.run_running + (model.run_failed,)).filter(
            updated__lt=now - registration.keep_done).delete()
    running_after = registration.running_after or registration.stale_after
    stale = model.objects.filter(
        Q(status__in=model.run_waiting, **{f"{registration.waiting_clock}__lt": now - registration.stale_after})
        | Q(status__in=model.run_running, **{f"{registration.running_clock}__lt": now - running_after}))
    if registration.stuck is not None:
        stale = registration.stuck(stale, now)
    sent = registration.also(now) if registration.also is not None else 0
    for row in stale.order_by("pk")[:limit]:
        running = row.status in model.run_running
        if running and row.attempts >= registration.max_attempts:
            why = f"Given up after {row.attempts} attempts: it stopped each time before it finished"
            (registration.give_up or _give_up)(row, why)
            continue
        fields: dict[str, Any] = {"updated": now}
        if registration.counts_hand_outs:
            fields["attempts"] = F("attempts") + 1
        clock = registration.running_clock if running else registration.waiting_clock
        if not model.objects.filter(pk=row.pk, status=row.status, **{clock: getattr(row, clock)}).update(**fields):
            continue  # another reconciler has it, or it moved on meanwhile
        if running and registration.release is not None and not registration.release(row, now):
            continue
        if running and registration.release is None and registration.hand_out is None:
            model.run_release(row.pk, error="its worker stopped; tried again")
        if not (registration.hand_out(row) if registration.hand_out else
                queue.send(registration.task_of(row), *registration.args(row))):
            break  # the broker is away: the rest wait for the next round
        sent += 1
    return sent


def _give_up(row: BackgroundRun, why: str) -> bool:
    return type(row).run_give_up(row.pk, error=why)


def run_counts() -> list[dict[str, Any]]:
    """Each registered run model: how many wait, run, and failed (given up on), for the operations page."""
    out = []
    for registration in registered():
        model = registration.model
        found = dict(model.objects.filter(status__in=model.run_waiting + model.run_running + (model.run_failed,))
                     .values_list("status").annotate(n=models.Count("pk")).order_by())
        out.append({"label": registration.label, "name": model._meta.verbose_name_plural,
                    "task": registration.task if isinstance(registration.task, str) else "",
                    "waiting": sum(found.get(s, 0) for s in model.run_waiting),
                    "running": sum(found.get(s, 0) for s in model.run_running),
                    "failed": found.get(model.run_failed, 0), "max_attempts": registration.max_attempts,
                    "stale_after": registration.stale_after.total_seconds()})
    return out
