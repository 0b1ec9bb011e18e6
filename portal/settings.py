"""Every setting, read from the environment (or a `.env` file) in this one place.

Embedded defaults need no server: SQLite, a filesystem Celery broker and the sandbox AWS on
127.0.0.1:$SANDBOX_PORT. Production sets DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY,
ALLOWED_HOSTS and GUARDRAIL_SANDBOX=false (then AWS is real AWS, or AWS_ENDPOINT_URL).
"""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from kombu import Exchange, Queue

from portal import filesystem_broker, redis_broker, routing
from portal.environment import SANDBOX_VALUES, Settings, production_refuse

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

# A `.env` beside manage.py (make run writes one with a SECRET_KEY); GUARDRAIL_ENV_FILE names another.
environ.Env.read_env(os.environ.get("GUARDRAIL_ENV_FILE", str(BASE_DIR / ".env")), overwrite=False)
cfg = Settings(environ.Env())

DEBUG = cfg.bool("DEBUG", False)
SECRET_KEY = cfg.str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set: set it in the environment or in .env (it is required when DEBUG is off)"
        )
    SECRET_KEY = "insecure-debug-only-key"
ALLOWED_HOSTS = cfg.list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = cfg.list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "portal",
    "catalog",
    "audit",
    "remediation",
    "triage",
    "ops",
    "security",
    "onboarding",
]
# The sandbox AWS is a development tool: its management commands exist only where it is enabled.
SANDBOX_ENABLED = cfg.bool("GUARDRAIL_SANDBOX", True)
if SANDBOX_ENABLED:
    INSTALLED_APPS.append("sandbox")

MIDDLEWARE = [
    "ops.middleware.RequestIdMiddleware",  # first: every log line of a request carries its id
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "security.middleware.LoginThrottleMiddleware",
    "security.middleware.AuditLogMiddleware",
    "security.sso_session.SsoRefreshMiddleware",  # no-op unless single sign-on is on and the session came from it
    "portal.request_values.RequestValuesMiddleware",  # after the audit log: refused attempts are logged too
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.navigation",
            ],
        },
    },
]

if not cfg.str("DATABASE_URL", ""):
    VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": cfg.db("DATABASE_URL", f"sqlite:///{VAR_DIR / 'guardrail.sqlite3'}")}
DATABASES["default"].setdefault("CONN_MAX_AGE", cfg.int("DATABASE_CONN_MAX_AGE", 0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    # Several processes (web, worker, beat, sandbox) share the file: wait for locks, use WAL.
    # IMMEDIATE: a writing transaction takes the lock at BEGIN and waits for it, instead of failing
    # with "database is locked" when two transactions try to upgrade from reading to writing.
    DATABASES["default"]["OPTIONS"].update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE",
         "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = cfg.str("STATIC_ROOT", str(BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = cfg.bool("WHITENOISE_USE_FINDERS", True)

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if cfg.bool("BEHIND_TLS_PROXY", False) else None
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = cfg.bool("SECURE_COOKIES", False)

# --- Security headers, sessions, login throttling, audit log (README "Security") ------------------
# HSTS only where the portal is reached over TLS (secure cookies, or a TLS proxy in front).
SECURE_HSTS_SECONDS = cfg.int("SECURE_HSTS_SECONDS",
                              31536000 if SESSION_COOKIE_SECURE or SECURE_PROXY_SSL_HEADER else 0)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No inline script or style anywhere: behaviour lives in static/guardrail/guardrail.js (data attributes),
# looks in guardrail.css. data: images are Bootstrap's own icons (select arrows, close buttons).
CONTENT_SECURITY_POLICY = {"DIRECTIVES": {
    "default-src": ["'self'"], "script-src": ["'self'"], "style-src": ["'self'"], "img-src": ["'self'", "data:"],
    "object-src": ["'none'"], "base-uri": ["'self'"], "form-action": ["'self'"], "frame-ancestors": ["'none'"],
}}
SESSION_COOKIE_AGE = int(cfg.float("SESSION_HOURS", 8.0) * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = cfg.bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
# Failed logins per username / per address within the window lock that username / address out for as long.
LOGIN_FAILURES_PER_USERNAME = cfg.int("LOGIN_FAILURES_PER_USERNAME", 5)
LOGIN_FAILURES_PER_IP = cfg.int("LOGIN_FAILURES_PER_IP", 20)
LOGIN_LOCKOUT_MINUTES = cfg.int("LOGIN_LOCKOUT_MINUTES", 15)
AUDIT_LOG_RETENTION_DAYS = cfg.int("AUDIT_LOG_RETENTION_DAYS", 730)

# --- Single sign-on (OpenID Connect, security/oidc.py). Off while OIDC_ISSUER_URL is empty. ---------------------
OIDC_ISSUER_URL = cfg.str("OIDC_ISSUER_URL", "").rstrip("/")
OIDC_ENABLED = bool(OIDC_ISSUER_URL)
OIDC_RP_CLIENT_ID = cfg.str("OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = cfg.str("OIDC_CLIENT_SECRET", "")  # or OIDC_CLIENT_SECRET_FILE
OIDC_RP_SCOPES = cfg.str("OIDC_SCOPES", "openid email profile")
OIDC_GROUPS_CLAIM = cfg.str("OIDC_GROUPS_CLAIM", "groups")
OIDC_PROVIDER_NAME = cfg.str("OIDC_PROVIDER_NAME", "single sign-on")
# Off: the login page offers only single sign-on; the password form lets in superusers only (the first admin).
LOCAL_PASSWORDS = cfg.bool("LOCAL_PASSWORDS", True)
OIDC_RP_SIGN_ALGO = "RS256"  # checked against the provider's keys (its jwks_uri, from discovery)
OIDC_AUTHENTICATION_CALLBACK_URL = "security:sso-callback"
OIDC_TIMEOUT = 10
# How often a signed-in person is checked again at the provider (refresh token): disabled there, signed out here.
OIDC_SESSION_REFRESH_SECONDS = cfg.int("OIDC_SESSION_REFRESH_SECONDS", 900)
if OIDC_ENABLED:
    AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend", "security.oidc.SsoBackend"]

# --- REST API --------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "security.auth.ScopedTokenAuthentication",  # knox's tokens, with their scope and last use
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["portal.api.parsers.JSONParser", "rest_framework.parsers.FormParser",
                               "rest_framework.parsers.MultiPartParser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer", "portal.api.renderers.BrowsableAPIRenderer"],
    "EXCEPTION_HANDLER": "portal.api.exceptions.exception_handler",
}
KNOX_TOKEN_MODEL = "knox.AuthToken"  # named so security.TokenDetails can point at it (knox's model is swappable)
REST_KNOX = {"TOKEN_TTL": None, "AUTO_REFRESH": False, "AUTH_HEADER_PREFIX": "Token"}
SPECTACULAR_SETTINGS = {
    "TITLE": "Guardrail API",
    "DESCRIPTION": "Self-service cloud portal: catalog, launches, audit, compliance and remediation.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "portal.api.schema.error_responses"],
    "ENUM_NAME_OVERRIDES": {"ConfigurationItemStatusEnum": "audit.models.ItemStatus",
                            "DryRunStatusEnum": "remediation.models.DryRun.Status",
                            "AlertStatusEnum": "triage.models.AlertStatus",
                            "SignatureStatusEnum": "triage.models.Signature.Status",
                            "CheckLineStatusEnum": "onboarding.checks.LINE_STATUSES"},
}

# --- Celery ----------------------------------------------------------------------------------
CELERY_BROKER_URL = cfg.str("CELERY_BROKER_URL", "filesystem://")
BROKER_FOLDER = Path(cfg.str("BROKER_FOLDER", str(VAR_DIR / "broker")))
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT = filesystem_broker.TRANSPORT  # a folder per queue (portal/filesystem_broker.py)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_FOLDER / "queue"),
        "data_folder_out": str(BROKER_FOLDER / "queue"),
        "control_folder": str(BROKER_FOLDER / "control"),
        "store_processed": False,
        # A worker looks for messages again this long after finding none it may take (its slots full or its
        # queues empty). At kombu's default, 1 s, a worker of concurrency 2 took 2 messages a second however short
        # the tasks; at 20 ms a burst drains at the worker's own pace (README "make run"), and the two idle
        # workers' polling costs about 2% of a core (a folder per queue: portal/filesystem_broker.py).
        "polling_interval": 0.02,
    }
    for _folder in ("queue", "control"):  # the embedded broker's folders must exist before any message
        (BROKER_FOLDER / _folder).mkdir(parents=True, exist_ok=True)
elif CELERY_BROKER_URL.startswith("redis://"):
    CELERY_BROKER_TRANSPORT = redis_broker.TRANSPORT  # a worker survives losing Redis mid-wait (portal/redis_broker.py)
# Each task waits in the queue of its kind (portal/routing.py); two workers share them (Procfile, docker-compose.yml).
CELERY_TASK_DEFAULT_QUEUE = routing.DEFAULT_QUEUE
CELERY_TASK_QUEUES = [Queue(name, Exchange(name), routing_key=name) for name in routing.QUEUES]
CELERY_TASK_ROUTES = routing.task_routes()
CELERY_TASK_ALWAYS_EAGER = cfg.bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "portal.tasks.worker_heartbeat", "schedule": 30.0},
    # Every registered background run (launches, log files, hand-ons, recorder runs, action runs, dry runs, flow-log
    # files) whose message was lost or whose worker stopped, sent again or given up on: portal.runs.
    "runs-reconcile": {"task": "portal.tasks.runs_reconcile", "schedule": 60.0},
    "cloudtrail-poll": {"task": "audit.tasks.cloudtrail_poll", "schedule": 5.0},
    "cloudtrail-lookup-poll": {"task": "audit.tasks.cloudtrail_lookup_poll", "schedule": 60.0},
    "events-purge": {"task": "audit.tasks.events_purge", "schedule": 6 * 60 * 60.0},
    "drift-check": {"task": "catalog.tasks.drift_check_all", "schedule": cfg.float("DRIFT_CHECK_SECONDS", 3600.0)},
    "recorder-scan": {"task": "audit.tasks.recorder_scan_all", "schedule": cfg.float("RECORDER_SCAN_SECONDS", 300.0)},
    "org-sync": {"task": "triage.tasks.org_sync_all", "schedule": cfg.float("ORG_SYNC_SECONDS", 3600.0)},
    "alarms": {"task": "triage.tasks.alarms_evaluate", "schedule": 60.0},
    "flowlogs-poll": {"task": "triage.tasks.flowlogs_poll", "schedule": cfg.float("FLOWLOG_POLL_SECONDS", 60.0)},
    "audit-log-purge": {"task": "security.tasks.audit_log_purge", "schedule": 24 * 60 * 60.0},
    "database-analyze": {"task": "portal.tasks.database_analyze", "schedule": 24 * 60 * 60.0},
    "compliance-periodic": {"task": "remediation.tasks.evaluate_periodic",
                            "schedule": cfg.float("COMPLIANCE_PERIODIC_SECONDS", 600.0)},
}

# --- AWS (see portal/aws.py, the one boundary) ------------------------------------------------
SANDBOX_PORT = cfg.int("SANDBOX_PORT", 5000)
AWS_ENDPOINT_URL = cfg.str("AWS_ENDPOINT_URL", f"http://127.0.0.1:{SANDBOX_PORT}" if SANDBOX_ENABLED else "")
AWS_DEFAULT_REGION = cfg.str("AWS_DEFAULT_REGION", "us-east-1")
AWS_REGIONS = cfg.list("AWS_REGIONS", ["us-east-1", "eu-west-1"])


def _sandbox_default(name: str) -> str:
    """The setting, or while the sandbox is on its sandbox value (SANDBOX_VALUES); empty counts as unset
    (docker-compose.yml passes `${NAME:-}`). Against real AWS, unset or a sandbox value stops the portal (below)."""
    return cfg.str(name, "") or (SANDBOX_VALUES[name] if SANDBOX_ENABLED else "")


# The portal's own identity. Unset in production: boto3's default chain (environment, instance role).
AWS_ACCESS_KEY_ID = _sandbox_default("AWS_ACCESS_KEY_ID")
AWS_SECRET_ACCESS_KEY = _sandbox_default("AWS_SECRET_ACCESS_KEY")
AWS_MANAGEMENT_ACCOUNT_ID = _sandbox_default("AWS_MANAGEMENT_ACCOUNT_ID")
AWS_PORTAL_ROLE_NAME = cfg.str("AWS_PORTAL_ROLE_NAME", "GuardrailPortal")
# The roles the account kit (deploy/aws/) creates, one per purpose; portal/aws_permissions.py lists what each grants.
AWS_REMEDIATION_ROLE_NAME = cfg.str("AWS_REMEDIATION_ROLE_NAME", "GuardrailRemediation")
AWS_LAUNCH_ROLE_NAME = cfg.str("AWS_LAUNCH_ROLE_NAME", "GuardrailLaunch")
# In the management account: the organisation's accounts, OUs and tags.
AWS_ORGANIZATIONS_ROLE_NAME = cfg.str("AWS_ORGANIZATIONS_ROLE_NAME", "GuardrailOrganizations")
# Passed on every AssumeRole (the kit's roles trust the portal only with it). Empty counts as unset (above).
AWS_EXTERNAL_ID = _sandbox_default("AWS_EXTERNAL_ID")
# The portal's own IAM user or role: the one principal the kit's roles trust (the kit's PortalPrincipalArn).
AWS_PORTAL_PRINCIPAL_ARN = cfg.str("AWS_PORTAL_PRINCIPAL_ARN", "") or (
    f"arn:aws:iam::{AWS_MANAGEMENT_ACCOUNT_ID}:user/guardrail-portal" if SANDBOX_ENABLED else "")
AWS_CONNECT_TIMEOUT = cfg.float("AWS_CONNECT_TIMEOUT", 5.0)
AWS_READ_TIMEOUT = cfg.float("AWS_READ_TIMEOUT", 30.0)
AWS_MAX_ATTEMPTS = cfg.int("AWS_MAX_ATTEMPTS", 3)
# Where the account kit's templates are hosted (an S3 folder over HTTPS), for the console's quick-create link.
AWS_KIT_TEMPLATE_URL = cfg.str("AWS_KIT_TEMPLATE_URL", "")
# How often the sandbox delivers CloudTrail log files: a call reaches a file within this many seconds (AWS: about
# 5 minutes; 300 imitates it; 0: only when flushed). Each call's EventBridge event goes out within a second either way.
# SANDBOX_CLOUDTRAIL_FLUSH_SECONDS is its old name, still read.
SANDBOX_CLOUDTRAIL_DELIVERY_SECONDS = cfg.float("SANDBOX_CLOUDTRAIL_DELIVERY_SECONDS",
                                                cfg.float("SANDBOX_CLOUDTRAIL_FLUSH_SECONDS", 2.0))
SANDBOX_CLOUDTRAIL_FLUSH_SECONDS = SANDBOX_CLOUDTRAIL_DELIVERY_SECONDS  # the old name (sandbox.testing reads it)
# How often the sandbox writes a VPC flow-log file per flow log to S3 (AWS: every 1 or 10 minutes); 0: never.
SANDBOX_FLOWLOG_SECONDS = cfg.float("SANDBOX_FLOWLOG_SECONDS", 60.0)
# How long the sandbox's CloudFormation takes per stack resource (AWS: seconds to minutes), so a launch's resources come
# up one by one; 0: at once, inside CreateStack (the tests' sandbox always uses 0).
SANDBOX_CLOUDFORMATION_RESOURCE_SECONDS = cfg.float("SANDBOX_CLOUDFORMATION_RESOURCE_SECONDS", 1.5)
# `manage.py sandbox` also builds the demo world: the organisation, and per account a small network whose
# flow log shows normal traffic and, now and then, a port scan and an SSH brute force.
SANDBOX_DEMO_NETWORK = cfg.bool("SANDBOX_DEMO_NETWORK", True)
# `manage.py sandbox` refuses calls the caller's IAM policies do not allow, as AWS does.
SANDBOX_ENFORCE_IAM = cfg.bool("SANDBOX_ENFORCE_IAM", True)

# How long CloudTrail events are kept; older ones are removed in batches by a periodic task.
CLOUDTRAIL_RETENTION_DAYS = cfg.int("CLOUDTRAIL_RETENTION_DAYS", 365)
# Guardrail's own read-only calls (its roles' describes, told by their session names: audit/portal_calls.py) are
# counted per account and day instead of stored; true stores them as events too (marked Guardrail's, hidden by default).
CLOUDTRAIL_KEEP_PORTAL_READS = cfg.bool("CLOUDTRAIL_KEEP_PORTAL_READS", False)
# The real-time path: the management account's queue that EventBridge fills with every "AWS API Call via CloudTrail"
# event of the organisation (the kit's rules), read continuously by `manage.py events_consume`; empty region: the
# first of AWS_REGIONS' home, AWS_DEFAULT_REGION.
EVENTS_QUEUE_NAME = cfg.str("EVENTS_QUEUE_NAME", "guardrail-events")
EVENTS_QUEUE_REGION = cfg.str("EVENTS_QUEUE_REGION", "")

# --- Email -----------------------------------------------------------------------------------
EMAIL_CONFIG = cfg.email("EMAIL_URL", "consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = cfg.str("DEFAULT_FROM_EMAIL", "guardrail@localhost")

# Where alerts go beyond the portal (issue 9). Tokens live in the environment only.
PORTAL_URL = cfg.str("PORTAL_URL", "http://127.0.0.1:8000")
TICKETS_JIRA_URL = cfg.str("TICKETS_JIRA_URL", "")
TICKETS_JIRA_EMAIL = cfg.str("TICKETS_JIRA_EMAIL", "")
TICKETS_JIRA_TOKEN = cfg.str("TICKETS_JIRA_TOKEN", "")
TICKETS_JIRA_PROJECT = cfg.str("TICKETS_JIRA_PROJECT", "SEC")
TICKETS_GITHUB_REPO = cfg.str("TICKETS_GITHUB_REPO", "")
TICKETS_GITHUB_TOKEN = cfg.str("TICKETS_GITHUB_TOKEN", "")
TICKETS_GITHUB_API_URL = cfg.str("TICKETS_GITHUB_API_URL", "https://api.github.com")
ALERT_WEBHOOK_URL = cfg.str("ALERT_WEBHOOK_URL", "")

# --- Demo ------------------------------------------------------------------------------------
# Shows the demo people and their password on the login page (make run turns it on).
DEMO_LOGINS = cfg.bool("GUARDRAIL_DEMO_LOGINS", SANDBOX_ENABLED)
DEMO_PASSWORD = "guardrail-demo"

# Started against real AWS, the portal (web, workers, beat, every command) refuses to run on a sandbox default and
# names the setting: the management account, the ExternalId, the portal's principal, the sandbox's keys, demo logins.
if not SANDBOX_ENABLED:
    production_refuse(account_id=AWS_MANAGEMENT_ACCOUNT_ID, external_id=AWS_EXTERNAL_ID,
                      principal_arn=AWS_PORTAL_PRINCIPAL_ARN, access_key_id=AWS_ACCESS_KEY_ID,
                      secret_access_key=AWS_SECRET_ACCESS_KEY, demo_logins=DEMO_LOGINS)

# --- Operations (ops/) --------------------------------------------------------------------------
# A bearer token Prometheus may scrape /metrics with (admins may always); unset: admins only.
METRICS_TOKEN = cfg.str("METRICS_TOKEN", "")
# plain: the human format below; json: one JSON object a line with request_id, task_id, task_name.
LOG_FORMAT = cfg.str("LOG_FORMAT", "plain").strip().lower()
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} is not plain or json")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s%(request_tag)s %(message)s"},
                   "json": {"()": "ops.logs.JsonFormatter"}},
    "filters": {"request_id": {"()": "ops.logs.RequestIdFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": cfg.str("LOG_LEVEL", "INFO")},
    "loggers": {"botocore": {"level": "WARNING"}, "urllib3": {"level": "WARNING"}, "cfnlint": {"level": "WARNING"}},
}
