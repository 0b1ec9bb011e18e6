"""The portal's WSGI application with one more URL, /bench/bare/ (a bare JsonResponse): the page-throughput bench's
anchor, served by the same gunicorn. Only `make bench` starts it."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.test_settings")
application = get_wsgi_application()

from django.conf import settings  # noqa: E402  (configured by the line above)

settings.ROOT_URLCONF = "bench.page_urls"
