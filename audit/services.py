"""Ingesting CloudTrail log files: stream the records, store each once (by eventID), enrich, quarantine bad files."""

import logging
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta
from itertools import islice
from typing import IO, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from audit import cloudtrail_delivery, handoffs
from audit.cloudtrail.files import BadLogFile, iter_records, parse_key
from audit.cloudtrail.records import BadRecord, caller, event_time, normalize, read_only, unwrap
from audit.cloudtrail.lookup import lookup_records
from audit.cloudtrail.notifications import UnreadableMessage, read_message
from audit.models import (CloudTrailEvent, EventResource, LogFile, LogFileStatus, LookupCursor, PortalCallCount,
                          QueueMessage)
from audit.portal_calls import PortalIdentities, is_denied
from portal import aws, queue, runs
from portal.models import Account

log = logging.getLogger(__name__)
BATCH = 500
POLL_ROUNDS = 20
STALE_AFTER = timedelta(minutes=5)
MAX_ATTEMPTS = 10  # claims, AWS retries included
INGEST_TASK = "audit.tasks.cloudtrail_ingest_file"
# LookupEvents: an event can reach the Event history minutes after its time (CloudTrail User Guide: events arrive
# "typically within an average of about 5 minutes", not guaranteed), so each read starts this long before the last
# one ended; what is read twice is stored once (eventID). A first read goes back LOOKUP_FIRST.
LOOKUP_OVERLAP = timedelta(minutes=15)
LOOKUP_FIRST = timedelta(hours=1)
REGIONS_FOR = timedelta(hours=1)
_enabled_regions: dict[tuple[str, str], tuple[datetime | None, frozenset[str]]] = {}
EVENTBRIDGE = "EVENTBRIDGE"  # CloudTrailEvent.via of what the real-time path stored first


class _Context:
    """Org context looked up once per file: the account's team, people by user name, the portal's own identities."""

    def __init__(self) -> None:
        accounts = list(Account.objects.values_list("account_id", "team_id", "role_name"))
        self.teams = {account_id: team_id for account_id, team_id, _ in accounts}
        self.portal = PortalIdentities.current({role for _, _, role in accounts})
        self.keep_portal_reads = settings.CLOUDTRAIL_KEEP_PORTAL_READS
        self.people: dict[str, int | None] = {}

    def portal_made(self, record: dict) -> bool:
        identity = record.get("userIdentity")
        if not isinstance(identity, dict):
            return False
        if identity.get("type") != "AssumedRole":  # people's keys, mostly: one comparison
            return bool(self.portal.principal_arn) and identity.get("arn") == self.portal.principal_arn
        identity_type, arn, user_name, issuer = caller(record)
        return self.portal.made(identity_type=identity_type, user_name=user_name, session_issuer_name=issuer,
                                identity_arn=arn)

    def portal_read(self, record: dict) -> tuple[str, datetime] | None:
        """(account id, event time) of a read-only call made by the portal's own roles (and not refused for want
        of a permission), which is counted instead of stored; None for every other record. Only the caller is
        looked at before the answer is known to be None, so people's records pay a dictionary lookup or two."""
        if self.keep_portal_reads or not self.portal_made(record):
            return None
        error = record.get("errorCode")
        if error and (not isinstance(error, str) or is_denied(error)):
            return None
        name = record.get("eventName")
        if not isinstance(name, str) or not read_only(record, name):
            return None
        identity = record.get("userIdentity") or {}
        account_id = record.get("recipientAccountId") or identity.get("accountId")
        try:
            return (account_id if isinstance(account_id, str) else ""), event_time(record)
        except BadRecord:
            return None  # stored, or refused as bad, with the rest

    def person(self, user_name: str) -> int | None:
        if user_name and user_name not in self.people:
            self.people[user_name] = get_user_model().objects.filter(username=user_name).values_list(
                "pk", flat=True).first()
        return self.people.get(user_name)


def _event_row(record: dict, ctx: _Context, log_file: LogFile | None, via: str = "") -> tuple[CloudTrailEvent, list]:
    n = normalize(record)
    event = CloudTrailEvent(
        event_id=n.event_id, event_time=n.event_time, event_source=n.event_source, event_name=n.event_name,
        event_type=n.event_type or "", account_id=n.account_id or "", region=n.aws_region or "",
        source_ip=n.source_ip or "", user_agent=n.user_agent or "", error_code=n.error_code or "",
        error_message=n.error_message or "", read_only=bool(n.read_only), identity_type=n.identity_type or "",
        identity_arn=n.identity_arn or "", user_name=n.user_name or "", access_key_id=n.access_key_id or "",
        session_issuer_arn=n.session_issuer_arn or "", mfa_authenticated=n.mfa_authenticated,
        by_portal=ctx.portal.made(identity_type=n.identity_type, user_name=n.user_name,
                                  session_issuer_name=n.session_issuer_name, identity_arn=n.identity_arn),
        team_id=ctx.teams.get(n.account_id or ""), person_id=ctx.person(n.user_name or ""), raw=record,
        log_file=log_file, via=via,
    )
    return event, list(n.resources)


def _store(batch: list[tuple[CloudTrailEvent, list]], act_on_writes: bool,
           log_file: LogFile | None = None) -> tuple[int, int]:
    """(stored, duplicates). Records already stored (from this or another file, or from EventBridge) are not stored
    again; a log file's copy completes an event EventBridge delivered first (`_complete`). The new events are handed
    on (audit.handoffs) in the same transaction: every one to the signatures; with `act_on_writes`, the writes that
    succeeded and named a resource to the recorder and the event rules.

    Who hands an event on is decided by the unique eventID: the rows this insert made carry its own `ingest_batch`,
    so of two copies stored at the same moment (two processes) only the one whose insert won acts."""
    ids = [event.event_id for event, _ in batch]
    existing = set(CloudTrailEvent.objects.filter(event_id__in=ids).values_list("event_id", flat=True))
    fresh = {event.event_id: (event, resources) for event, resources in batch if event.event_id not in existing}
    token = uuid.uuid4().hex
    with transaction.atomic():
        for event, _ in fresh.values():
            event.ingest_batch = token
        CloudTrailEvent.objects.bulk_create([event for event, _ in fresh.values()], ignore_conflicts=True)
        pks = dict(CloudTrailEvent.objects.filter(event_id__in=list(fresh), ingest_batch=token)
                   .values_list("event_id", "pk"))
        EventResource.objects.bulk_create([
            EventResource(event_id=pks[event_id], resource_type=r.type, resource_id=r.id[:512], arn=(r.arn or "")[:1024])
            for event_id, (_, resources) in fresh.items() if event_id in pks for r in resources
        ], ignore_conflicts=True)
        writes = [event_id for event_id, (e, res) in fresh.items()
                  if event_id in pks and res and not e.read_only and not e.error_code] if act_on_writes else []
        handoffs.events_hand_on(all_ids=[event_id for event_id in fresh if event_id in pks], write_ids=writes)
        if log_file is not None:
            _complete({event.event_id: (event, res) for event, res in batch if event.event_id not in pks}, log_file)
    return len(pks), len(batch) - len(pks)


# The flat columns a later copy may fill where the first one left them empty.
_COMPLETED_FIELDS = ("event_type", "region", "source_ip", "user_agent", "error_code", "error_message", "identity_type",
                     "identity_arn", "user_name", "access_key_id", "session_issuer_arn", "team_id", "person_id")


def _complete(copies: dict[str, tuple[CloudTrailEvent, list]], log_file: LogFile) -> int:
    """A log file's copies of events stored without a file (EventBridge's copy came first): each stored record gets
    what the file's record carries more (keys it lacks or left empty; nothing it has is overwritten), and the file
    it arrived in. Nothing is handed on again. A conditional update: done once, whoever gets there."""
    if not copies:
        return 0
    completed = 0
    for row in CloudTrailEvent.objects.filter(event_id__in=list(copies), log_file__isnull=True):
        copy, resources = copies[row.event_id]
        raw = dict(row.raw)
        raw.update({key: value for key, value in copy.raw.items() if raw.get(key) in (None, "", [], {})})
        changes: dict[str, Any] = {field: getattr(copy, field) for field in _COMPLETED_FIELDS
                                   if getattr(row, field) in ("", None) and getattr(copy, field) not in ("", None)}
        if row.mfa_authenticated is None and copy.mfa_authenticated is not None:
            changes["mfa_authenticated"] = copy.mfa_authenticated
        if CloudTrailEvent.objects.filter(pk=row.pk, log_file__isnull=True).update(raw=raw, log_file=log_file,
                                                                                   **changes):
            EventResource.objects.bulk_create([
                EventResource(event_id=row.pk, resource_type=r.type, resource_id=r.id[:512], arn=(r.arn or "")[:1024])
                for r in resources], ignore_conflicts=True)
            completed += 1
    return completed


def _batches(items: Iterator[Any], size: int) -> Iterator[list]:
    while chunk := list(islice(items, size)):
        yield chunk


def portal_reads_count(reads: Mapping[tuple[str, date], int], newest: Mapping[str, datetime] | None = None) -> None:
    """Add to the per account and day counts of Guardrail's own read-only calls (one upsert per account and day;
    concurrent files add up through F()). `newest`: the newest counted call's time per account (LookupEvents' cursor)."""
    for (account_id, day), number in sorted(reads.items()):
        rows = PortalCallCount.objects.filter(account_id=account_id, day=day)
        if not rows.update(count=F("count") + number):
            try:
                with transaction.atomic():
                    PortalCallCount.objects.create(account_id=account_id, day=day, count=number)
            except IntegrityError:  # another worker made the row meanwhile
                rows.update(count=F("count") + number)
    for account_id, when in (newest or {}).items():
        PortalCallCount.objects.filter(account_id=account_id, day=when.date()).filter(
            Q(newest__isnull=True) | Q(newest__lt=when)).update(newest=when)


def records_ingest(records: Iterable[dict], *, log_file: LogFile | None = None, act_on_writes: bool = False,
                   portal_reads_after: datetime | None = None, count_portal_reads: bool = True,
                   via: str = "") -> dict[str, Any]:
    """Store records (raw CloudTrail records or EventBridge-wrapped ones); bad ones are counted, not stored.

    With `act_on_writes` (what the account's trail delivers), the recorder snapshots what new writes touched
    and the event rules see them; a one-off import (files from disk, a bench) only reaches the signatures.

    Guardrail's own read-only calls are counted per account and day instead of stored (audit.portal_calls;
    CLOUDTRAIL_KEEP_PORTAL_READS keeps them): in `counts["portal_reads"]`, added to PortalCallCount here, or by
    `logfile_ingest` once per file for a log file. Those at or before `portal_reads_after` were counted already
    (LookupEvents reads a window again): they are skipped. Without `count_portal_reads` (EventBridge's copies) they
    are skipped too: the log file's copy counts them."""
    ctx = _Context()
    counts: dict[str, Any] = {"stored": 0, "duplicates": 0, "bad": 0, "bad_reasons": [], "file_error": "",
                              "portal_reads": Counter()}
    newest: dict[str, datetime] = {}

    def readable() -> Iterator[dict]:
        """The records up to any damage in the file; the damage is noted, not raised, so they all go in."""
        try:
            yield from records
        except BadLogFile as exc:
            counts["file_error"] = str(exc)

    def rows() -> Iterator[tuple[CloudTrailEvent, list]]:
        for record in readable():
            record = unwrap(record)
            read = ctx.portal_read(record) if isinstance(record, dict) else None
            if read is not None:
                account_id, when = read
                if count_portal_reads and (portal_reads_after is None or when > portal_reads_after):
                    counts["portal_reads"][account_id, when.date()] += 1
                    newest[account_id] = max(newest.get(account_id, when), when)
                continue
            try:
                yield _event_row(record, ctx, log_file, via)
            except (BadRecord, TypeError, ValueError, KeyError, AttributeError) as exc:
                counts["bad"] += 1
                if len(counts["bad_reasons"]) < 5:
                    counts["bad_reasons"].append(str(exc))

    for batch in _batches(rows(), BATCH):
        unique = list({event.event_id: (event, res) for event, res in batch}.values())
        stored, duplicates = _store(unique, act_on_writes, log_file)
        counts["stored"] += stored
        counts["duplicates"] += duplicates + len(batch) - len(unique)
    if log_file is None:
        portal_reads_count(counts["portal_reads"], newest if portal_reads_after is not None else None)
    return counts


def logfile_ingest(*, log_file: LogFile, stream: IO[bytes], act_on_writes: bool = False) -> LogFile:
    """Ingest one file already claimed (INGESTING): good records go in, a bad file ends QUARANTINED with why."""
    if log_file.bucket and not parse_key(log_file.key):
        return logfile_quarantine(log_file=log_file, reason="the key is outside the CloudTrail layout AWSLogs/<account>/CloudTrail/<region>/"
                                     "YYYY/MM/DD/…json.gz; not read")
    counts = records_ingest(iter_records(stream), log_file=log_file, act_on_writes=act_on_writes)
    problem = counts["file_error"]
    if counts["bad"]:
        problem = problem or f"{counts['bad']} record(s) could not be read: {'; '.join(counts['bad_reasons'])}"
    with transaction.atomic():
        reads = counts["portal_reads"]
        if LogFile.objects.filter(pk=log_file.pk, portal_reads__isnull=True).update(portal_reads=reads.total()):
            portal_reads_count(reads)  # once per file: a file read again (redelivered, retried) adds nothing
        LogFile.objects.filter(pk=log_file.pk).update(
            status=LogFileStatus.QUARANTINED if problem else LogFileStatus.DONE, reason=problem[:2000],
            records=counts["stored"], duplicates=counts["duplicates"])
    log_file.refresh_from_db()
    return log_file


def logfile_quarantine(*, log_file: LogFile, reason: str) -> LogFile:
    LogFile.objects.filter(pk=log_file.pk).update(status=LogFileStatus.QUARANTINED, reason=reason)
    log_file.refresh_from_db()
    return log_file


def logfile_claim(*, bucket: str, key: str) -> LogFile | None:
    """The file's row, moved to INGESTING; None if another worker has it or it is already done."""
    found = parse_key(key)
    log_file, _ = LogFile.objects.get_or_create(
        bucket=bucket, key=key,
        defaults={"account_id": found.account_id if found else "", "region": found.region if found else ""})
    claimed = LogFile.run_claim(log_file.pk, waiting=(LogFileStatus.PENDING, LogFileStatus.QUARANTINED))
    return LogFile.objects.get(pk=log_file.pk) if claimed else None


def logfile_release(*, log_file: LogFile, reason: str) -> None:
    """Back to PENDING, so that a retry can claim it again (AWS was out of reach: the file is not at fault)."""
    LogFile.run_release(log_file.pk, error=reason)


def logfile_retry(*, log_file: LogFile) -> None:
    """A quarantined file ingested again (an admin asked), once the transaction commits."""
    queue.enqueue(INGEST_TASK, log_file.account_id, log_file.bucket, log_file.key)


def runs_register() -> None:
    """Files a dead worker left half done, or whose message was lost, go again; deduplication keeps the result
    exact. A file its worker keeps stopping on is quarantined."""
    runs.register(LogFile, task=INGEST_TASK, stale_after=STALE_AFTER, max_attempts=MAX_ATTEMPTS,
                  args=lambda log_file: (log_file.account_id, log_file.bucket, log_file.key))


def logfiles_poll() -> int:
    """Each newly delivered file gets its row and its ingest task; a message is deleted from the queue only once
    what it says is kept: its files' rows, or the message itself when it names no file the portal can read."""
    found = 0
    account_ids = set(Account.objects.filter(cloudtrail_source="S3").values_list("account_id", flat=True))
    if not Account.objects.filter(account_id=settings.AWS_MANAGEMENT_ACCOUNT_ID).exists():
        account_ids.add(settings.AWS_MANAGEMENT_ACCOUNT_ID)  # an organisation trail's bucket and queue, often
    for account_id in sorted(account_ids):
        try:
            for _ in range(POLL_ROUNDS):  # a backlog drains at up to POLL_ROUNDS × 10 messages per poll
                batch = cloudtrail_delivery.messages(account_id=account_id)
                for message in batch:
                    found += message_take(account_id=account_id, message=message)
                    cloudtrail_delivery.forget_message(account_id=account_id, receipt=message.receipt)
                if not batch:
                    break
        except aws.AWS_ERRORS as exc:
            log.warning("cloudtrail: cannot read the queue of %s: %s", account_id, aws.error_code(exc))
    return found


def message_take(*, account_id: str, message: cloudtrail_delivery.QueueMessage) -> int:
    """Keep what one message of `account_id`'s queue says (its files, each once, read by that account's role), or
    the message itself with the reason; returns the number of files announced."""
    try:
        notice = read_message(message.body)
    except UnreadableMessage as exc:
        _message_keep(account_id, message, QueueMessage.Kind.QUARANTINED, exc.reason)
        log.warning("cloudtrail: kept an unreadable message from %s's queue: %s", account_id, exc.reason)
        return 0
    if notice.test_bucket is not None:
        _message_keep(account_id, message, QueueMessage.Kind.TEST_EVENT, f"{notice.shape} from bucket "
                      f"{notice.test_bucket or '?'}: S3 checks the notification when it is configured")
        return 0
    if notice.problem:  # part of it named files, part of it not: both kept
        _message_keep(account_id, message, QueueMessage.Kind.QUARANTINED, f"{notice.shape}: {notice.problem}")
    for new in notice.objects:
        found = parse_key(new.key)
        LogFile.objects.get_or_create(bucket=new.bucket, key=new.key, defaults={
            "account_id": account_id, "region": found.region if found else ""})
        queue.send(INGEST_TASK, account_id, new.bucket, new.key)
    return len(notice.objects)


def _message_keep(account_id: str, message: cloudtrail_delivery.QueueMessage, kind: str, reason: str) -> None:
    QueueMessage.objects.update_or_create(
        account_id=account_id, message_id=message.message_id or message.receipt[:100],
        defaults={"kind": kind, "body": message.body[:262144], "reason": reason[:2000]})


def logfile_read(*, account_id: str, bucket: str, key: str) -> None:
    """One delivered file, once: claimed, read through the AWS boundary, ingested. AWS out of reach releases it
    and raises (the task retries); AWS refusing the read quarantines it."""
    log_file = logfile_claim(bucket=bucket, key=key)
    if log_file is None:
        return  # done already, or another worker has it
    try:  # what is stored is handed on batch by batch (audit.handoffs), so a broken read loses nothing
        stream = cloudtrail_delivery.open_object(account_id=account_id, bucket=bucket, key=key)
        logfile_ingest(log_file=log_file, stream=stream, act_on_writes=True)
    except aws.ClientError as exc:  # AWS refused (the object is gone, access denied): nothing to retry
        logfile_quarantine(log_file=log_file, reason=f"cannot read the object: {aws.error_code(exc)}")
    except aws.AWS_ERRORS as exc:  # AWS out of reach, before or during the read: the retry claims it again
        logfile_release(log_file=log_file, reason=f"AWS could not be reached ({aws.error_code(exc)}); "
                                                  "ingesting again")
        raise


def lookup_regions(account: Account) -> list[str]:
    """Every region LookupEvents reads for `account`: those enabled in it (ec2:DescribeRegions, asked once an hour),
    so that calls where the account may not act (the region signature's very case) are read too, with its allowed
    regions and AWS_REGIONS in any case."""
    regions = set(account.allowed_regions) | set(settings.AWS_REGIONS)
    key = (settings.AWS_ENDPOINT_URL, account.account_id)
    asked, enabled = _enabled_regions.get(key, (None, frozenset()))
    if asked is None or timezone.now() - asked > REGIONS_FOR:
        try:
            answer = aws.client("ec2", account_id=account.account_id, role_name=account.role_name or None,
                                region=settings.AWS_DEFAULT_REGION).describe_regions()
            enabled = frozenset(r["RegionName"] for r in answer.get("Regions", []))
            _enabled_regions[key] = (timezone.now(), enabled)
        except aws.AWS_ERRORS as exc:
            log.warning("cloudtrail: cannot list the regions of %s (%s); reading the allowed ones and AWS_REGIONS",
                        account.account_id, aws.error_code(exc))
    return sorted(regions | enabled)


def lookup_poll() -> int:
    """For accounts read through LookupEvents: in every region they use, what came since the last read, read again
    from LOOKUP_OVERLAP before it, since an event can show up in the history well after its time (stored once, by
    eventID)."""
    stored = 0
    now = timezone.now()
    for account in Account.objects.filter(cloudtrail_source="LOOKUP_EVENTS"):
        cursors = dict(LookupCursor.objects.filter(account_id=account.account_id).values_list("region", "read_until"))
        # The portal's reads are not stored, so the window comes back: those up to the newest counted are skipped.
        counted = PortalCallCount.objects.filter(account_id=account.account_id).aggregate(
            newest=Max("newest"))["newest"] or now - LOOKUP_FIRST - timedelta(microseconds=1)
        for region in lookup_regions(account):
            since = cursors[region] - LOOKUP_OVERLAP if region in cursors else now - LOOKUP_FIRST
            try:
                client = aws.client("cloudtrail", account_id=account.account_id, role_name=account.role_name or None,
                                    region=region)
                stored += records_ingest(lookup_records(client=client, since=since, until=now),
                                         act_on_writes=True, portal_reads_after=counted)["stored"]
            except aws.AWS_ERRORS as exc:  # read again from the same point next time
                log.warning("cloudtrail: LookupEvents in %s/%s failed: %s", account.account_id, region,
                            aws.error_code(exc))
                continue
            LookupCursor.objects.update_or_create(account_id=account.account_id, region=region,
                                                  defaults={"read_until": now})
    return stored


def events_purge(*, older_than: datetime, batch: int = 5000) -> int:
    """Delete events older than `older_than`, a batch at a time so no transaction grows large, the counts of
    Guardrail's own reads of the days before it, and the queue messages kept before it."""
    removed = 0
    PortalCallCount.objects.filter(day__lt=older_than.date()).delete()
    QueueMessage.objects.filter(received__lt=older_than).delete()
    while True:
        ids = list(CloudTrailEvent.objects.filter(event_time__lt=older_than).values_list("pk", flat=True)[:batch])
        if not ids:
            return removed
        removed += CloudTrailEvent.objects.filter(pk__in=ids).delete()[1].get("audit.CloudTrailEvent", 0)
