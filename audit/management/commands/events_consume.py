"""Read the real-time queue of CloudTrail events continuously (the `events` process): audit.realtime."""

import signal

from django.core.management.base import BaseCommand

from audit.realtime import Consumer


class Command(BaseCommand):
    help = ("Store each CloudTrail event EventBridge puts on the management account's guardrail-events queue the moment "
            "it arrives (long polls; SIGTERM or Ctrl-C stops it, after the batch under way).")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One poll, then exit.")
        parser.add_argument("--wait", type=int, default=20, choices=range(0, 21), metavar="0-20",
                            help="Seconds a poll waits for a message (SQS's long poll; default 20).")

    def handle(self, *args, once: bool = False, wait: int = 20, **options) -> None:
        consumer = Consumer(wait_seconds=wait)
        if once:
            taken = consumer.poll_once()
            self.stdout.write(f"{taken} message(s): {consumer.totals}")
            return
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, consumer.signalled)
        consumer.run()
