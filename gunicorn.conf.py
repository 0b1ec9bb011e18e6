"""gunicorn reads this file from the working directory (make run, docker-compose)."""

import threading


def post_worker_init(worker) -> None:
    # cfn-lint builds its rules on first use (~1 s): pay that in the background at start, not in
    # the first admin's template upload.
    from catalog.cfn.lint import warm_up

    threading.Thread(target=warm_up, name="cfn-lint-warm-up", daemon=True).start()
