"""Backfill: `manage.py ingest_cloudtrail s3://bucket/prefix` or a local folder of .json / .json.gz files."""

from collections.abc import Iterator
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.cloudtrail.files import parse_key
from audit.models import LogFileStatus
from audit.services import logfile_claim, logfile_ingest
from portal import aws


class Command(BaseCommand):
    help = "Ingest CloudTrail log files from s3://bucket/prefix or a local folder, with a progress bar."

    def add_arguments(self, parser) -> None:
        parser.add_argument("source", help="s3://bucket/prefix or a folder of .json / .json.gz files")
        parser.add_argument("--since", type=date.fromisoformat, help="first day to read (YYYY-MM-DD)")
        parser.add_argument("--until", type=date.fromisoformat, help="last day to read (YYYY-MM-DD)")
        parser.add_argument("--account", default=settings.AWS_MANAGEMENT_ACCOUNT_ID,
                            help="account whose portal role reads the bucket")

    def handle(self, *args, source: str, since: date | None, until: date | None, account: str, **options) -> None:
        files = list(self._s3(source, account, since, until) if source.startswith("s3://") else self._local(source))
        totals = {"files": 0, "records": 0, "duplicates": 0, "quarantined": 0, "portal_reads": 0}
        for number, (bucket, key, opener) in enumerate(files, start=1):
            log_file = logfile_claim(bucket=bucket, key=key)
            if log_file is not None:
                with opener() as stream:
                    log_file = logfile_ingest(log_file=log_file, stream=stream)
                totals["records"] += log_file.records
                totals["duplicates"] += log_file.duplicates
                totals["portal_reads"] += log_file.portal_reads or 0
                totals["quarantined"] += log_file.status == LogFileStatus.QUARANTINED
            totals["files"] += 1
            self._progress(number, len(files), totals["records"])
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(
            "{files} file(s): {records} record(s) stored, {duplicates} already there, {quarantined} quarantined; "
            "{portal_reads} read-only call(s) of Guardrail's own counted, not stored."
            .format(**totals)))

    def _progress(self, done: int, total: int, records: int) -> None:
        width = 30
        filled = int(width * done / total) if total else width
        self.stdout.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} files, {records} records",
                          ending="")
        self.stdout.flush()

    def _local(self, folder: str) -> Iterator[tuple[str, str, object]]:
        root = Path(folder)
        if not root.is_dir():
            raise CommandError(f"{folder} is not a folder (or use s3://bucket/prefix).")
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.name.endswith((".json", ".json.gz")):
                yield "", str(path.resolve()), (lambda p=path: open(p, "rb"))

    def _s3(self, source: str, account: str, since: date | None, until: date | None):
        bucket, _, prefix = source[len("s3://"):].partition("/")
        if not bucket:
            raise CommandError("Give s3://bucket/prefix.")
        s3 = aws.client("s3", account_id=account)
        try:
            pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix))
        except aws.AWS_ERRORS as exc:
            raise CommandError(f"Cannot list {source}: {aws.error_code(exc)}") from None
        for page in pages:
            for obj in page.get("Contents", []):
                found = parse_key(obj["Key"])
                if found is None or (since and found.date < since) or (until and found.date > until):
                    continue
                yield bucket, obj["Key"], _S3Object(s3, bucket, obj["Key"])


class _S3Object:
    def __init__(self, s3, bucket: str, key: str) -> None:
        self.s3, self.bucket, self.key = s3, bucket, key

    def __call__(self):
        return self

    def __enter__(self):
        self.body = self.s3.get_object(Bucket=self.bucket, Key=self.key)["Body"]
        return self.body

    def __exit__(self, *exc) -> None:
        self.body.close()


