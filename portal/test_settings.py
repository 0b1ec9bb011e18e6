"""Settings for the test suite: the real settings, with test-only defaults set before they are read.

Unit tests run on SQLite with eager tasks. The integration tests (marked `integration`) bring
their own database and broker from DATABASE_URL and REDIS_URL (see tests/integration/).
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("GUARDRAIL_SANDBOX", "true")
if os.environ.get("GUARDRAIL_INTEGRATION"):
    # Integration tests: the real PostgreSQL of DATABASE_URL, the real Redis of REDIS_URL, real workers.
    if os.environ.get("REDIS_URL"):
        os.environ["CELERY_BROKER_URL"] = os.environ["REDIS_URL"]
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "false")
else:
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("BROKER_FOLDER", os.path.join(tempfile.gettempdir(), "guardrail-test-broker"))
if not os.environ.get("GUARDRAIL_INTEGRATION"):
    # Unit tests: SQLite whatever the shell says.
    os.environ["DATABASE_URL"] = "sqlite:///" + os.path.join(tempfile.gettempdir(), "guardrail-test.sqlite3")
    os.environ["CELERY_BROKER_URL"] = "memory://"

from portal.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SANDBOX_CLOUDTRAIL_DELIVERY_SECONDS = SANDBOX_CLOUDTRAIL_FLUSH_SECONDS = 0.2  # the new name and the old
STATIC_ROOT = os.path.join(tempfile.gettempdir(), "guardrail-test-static")
os.makedirs(STATIC_ROOT, exist_ok=True)
