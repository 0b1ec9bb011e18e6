import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.test_settings")


def main() -> int:
    import django

    django.setup()
    from bench import catalog_upload, sandbox_overhead

    for bench in (sandbox_overhead, catalog_upload):
        for line in bench.run():
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
