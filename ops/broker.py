"""What waits in the broker, queue by queue: how many messages and how long the oldest has waited.

Depth is a passive declare (LLEN summed over the priority lists on Redis, a count of message files on the embedded
filesystem broker). The oldest message's age comes from the `published_at` header every publisher stamps
(portal.celery): on Redis the oldest message is the list's tail (kombu pushes on the left and pops on the right),
on the filesystem broker the first file by name in the queue's folder (named by publish time); a message without
the header (published before it existed) is timed by its file's modification time there, and not at all on Redis.
Other transports (the in-memory one of the unit tests) give depths only.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass

from kombu.exceptions import ChannelError

from portal.celery import PUBLISHED_HEADER


@dataclass(frozen=True)
class QueueState:
    depth: int
    oldest_seconds: float | None  # how long the oldest waiting message has waited; None: none waits, or unknown


def queue_states(channel, queues: list[str], *, now: float | None = None) -> dict[str, QueueState]:
    now = time.time() if now is None else now
    driver = channel.connection.client.transport.driver_type
    states = {}
    for queue in queues:
        try:
            depth = channel.queue_declare(queue=queue, passive=True).message_count
        except ChannelError:  # never declared yet: nothing waiting
            depth = 0
        published = _oldest_published(channel, driver, queue) if depth else None
        states[queue] = QueueState(depth, None if published is None else max(0.0, now - published))
    return states


def _oldest_published(channel, driver: str, queue: str) -> float | None:
    if driver == "filesystem":
        folder = channel.queue_folder(queue) if hasattr(channel, "queue_folder") else channel.data_folder_in
        return _filesystem_oldest(folder, queue)
    if driver == "redis":
        return _redis_oldest(channel, queue)
    return None


def _stamp(raw: bytes | str | None) -> float | None:
    try:
        value = json.loads(raw)["headers"][PUBLISHED_HEADER]
    except (TypeError, ValueError, KeyError):
        return None
    return float(value) if isinstance(value, int | float) else None


def _filesystem_oldest(folder: str, queue: str) -> float | None:
    """kombu's filesystem transport names each message `<publish ms>_<uuid>.<queue>.msg` and takes them in name
    order, from one folder for every queue (kombu's) or a folder per queue (portal.filesystem_broker); a file taken
    meanwhile is skipped."""
    suffix = f"{queue}.msg"
    for name in sorted(n for n in os.listdir(folder) if n.partition(".")[2] == suffix):
        path = os.path.join(folder, name)
        try:
            with open(path, "rb") as message:
                stamp = _stamp(message.read())
            return stamp if stamp is not None else os.stat(path).st_mtime
        except OSError:
            continue
    return None


def _redis_oldest(channel, queue: str) -> float | None:
    """The tail of each of the queue's priority lists (the plain name for the default priority)."""
    stamps = [_stamp(channel.client.lindex(channel._q_for_pri(queue, priority), -1))
              for priority in channel.priority_steps]
    stamps = [s for s in stamps if s is not None]
    return min(stamps) if stamps else None
