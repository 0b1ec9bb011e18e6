"""gunicorn reads this file from the working directory (make run, docker-compose)."""

import threading

# gunicorn's default access line plus the response's X-Request-ID (ops.middleware), to find the request's log lines.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %({x-request-id}o)s'


def post_worker_init(worker) -> None:
    # cfn-lint builds its rules on first use (~1 s): pay that in the background at start, not in
    # the first admin's template upload.
    from catalog.cfn.lint import warm_up

    threading.Thread(target=warm_up, name="cfn-lint-warm-up", daemon=True).start()
