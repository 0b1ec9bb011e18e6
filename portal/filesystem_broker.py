"""The embedded broker of `make run`: kombu's filesystem transport with a folder of its own per queue.

kombu's transport keeps every queue's messages in one folder and lists (and sorts) all of it each time a worker looks
for a message in one queue, so a backlog in one queue is paid for by every poll of every other: with 2,000 files
waiting, the two idle workers' polling took 18% of a core at a 50 ms interval. Here each queue has its own folder
(`<data folder>/<queue>/`), so looking into an empty queue costs an empty listing whatever waits elsewhere. A message
is taken by renaming it within its folder (atomic: one taker), then read and removed. Message files are named
`<publish time, monotonic ns, 20 digits>_<uuid>.<queue>.msg` and taken in name order (kombu's names carry
milliseconds without padding: two messages of one millisecond came out in random order).

settings.py uses it for `filesystem://` URLs (CELERY_BROKER_TRANSPORT); messages a stock filesystem transport left in
the top folder are moved into their queue's folder when a channel first looks at that queue.
"""

from __future__ import annotations

import os
import re
import uuid
from queue import Empty
from time import monotonic_ns

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

TRANSPORT = "portal.filesystem_broker:Transport"
SUFFIX = ".msg"
_QUEUE_NAME = re.compile(r"\A[A-Za-z0-9@._-]+\Z")  # task queues, worker@host.celery.pidbox, celeryev.<uuid>


class Channel(filesystem.Channel):
    _ready: set[str]

    def queue_folder(self, queue: str) -> str:
        """The queue's own folder (made on first use; older top-level messages of the queue moved into it)."""
        if not _QUEUE_NAME.match(queue) or not queue.strip("."):
            raise ChannelError(f"queue name {queue!r} cannot name a folder")
        folder = os.path.join(self.data_folder_in, queue)
        ready = self.__dict__.setdefault("_ready", set())
        if queue not in ready:
            os.makedirs(folder, exist_ok=True)
            for name in os.listdir(self.data_folder_in):
                if name.endswith(SUFFIX) and name.partition(".")[2] == f"{queue}{SUFFIX}":
                    try:
                        os.rename(os.path.join(self.data_folder_in, name), os.path.join(folder, name))
                    except OSError:
                        pass  # taken meanwhile
            ready.add(queue)
        return folder

    def _messages(self, queue: str) -> list[str]:
        folder = self.queue_folder(queue)
        return sorted(name for name in os.listdir(folder) if name.endswith(SUFFIX))

    def _put(self, queue, payload, **kwargs):
        name = f"{monotonic_ns():020d}_{uuid.uuid4()}.{queue}{SUFFIX}"  # fixed width: name order is publish order
        folder = self.queue_folder(queue)
        partial = os.path.join(folder, f".{name}.part")  # not a message until it is whole
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.rename(partial, os.path.join(folder, name))
        except OSError as exc:
            raise ChannelError(f"Cannot add file {name!r} to {folder!r}") from exc

    def _get(self, queue):
        folder = self.queue_folder(queue)
        for name in self._messages(queue):
            taken = os.path.join(folder, f".{name}.taken.{uuid.uuid4().hex}")
            try:
                os.rename(os.path.join(folder, name), taken)
            except OSError:
                continue  # another consumer took it
            try:
                with open(taken, "rb") as f:
                    payload = f.read()
                os.remove(taken)
            except OSError as exc:
                raise ChannelError(f"Cannot read file {taken!r} from queue.") from exc
            return loads(bytes_to_str(payload))
        raise Empty()

    def _size(self, queue):
        return len(self._messages(queue))

    def _purge(self, queue):
        folder, count = self.queue_folder(queue), 0
        for name in self._messages(queue):
            try:
                os.remove(os.path.join(folder, name))
                count += 1
            except OSError:
                pass
        return count


class Transport(filesystem.Transport):
    Channel = Channel
