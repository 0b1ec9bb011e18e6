"""The sandbox reaches AWS only through portal.aws: nothing under sandbox/ imports boto3."""

import pathlib
import re

SANDBOX = pathlib.Path(__file__).resolve().parents[1]


def test_it_never_imports_boto3():
    offenders = [
        str(path.relative_to(SANDBOX.parent)) for path in SANDBOX.rglob("*.py")
        if re.search(r"^\s*(import boto3|from boto3\b)", path.read_text(), re.MULTILINE)
    ]
    assert offenders == []


def test_it_keeps_the_server_modules_free_of_django():
    for name in ("server", "middleware", "identity", "operations", "wire", "shapes", "records", "delivery",
                 "trails", "refusals", "noecho"):
        text = (SANDBOX / f"{name}.py").read_text()
        assert not re.search(r"^\s*(import django|from django|from portal)", text, re.MULTILINE), name
