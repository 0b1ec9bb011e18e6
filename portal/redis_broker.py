"""Production's broker: kombu's Redis transport, with one fix: a worker that loses Redis while it waits for messages
(its BRPOP) holding messages not yet acknowledged no longer dies of it.

Celery 5.7 closes a lost connection twice, `collect()` (which drops the transport's link to its connection settings)
and then `close()`. A channel whose first close was cut short by the dead socket (it was inside BRPOP) is closed again
by the second, and restoring its unacknowledged messages then builds a Redis client from settings that are gone:
AttributeError, "Unrecoverable error", the worker exits (tests/integration/test_faults_redis.py: the fast worker, with
slots free and so waiting in BRPOP, did each time). Here a channel keeps the settings it connected with, so that
restore meets Redis down, a connection error the close ignores, and the worker reconnects like the others; the
messages stay in Redis's unacknowledged set until it restores them (and the runs reconciler sends lost work again).

settings.py uses it for `redis://` URLs (CELERY_BROKER_TRANSPORT).
"""

from __future__ import annotations

from kombu.transport import redis

TRANSPORT = "portal.redis_broker:Transport"


class Channel(redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> dict:
        saved = self.__dict__.setdefault("_connparams_saved", {})
        if self.connection.client is None and asynchronous in saved:  # closing after collect(): the last ones
            return dict(saved[asynchronous])
        params = super()._connparams(asynchronous=asynchronous)
        saved[asynchronous] = dict(params)
        return params


class Transport(redis.Transport):
    Channel = Channel
