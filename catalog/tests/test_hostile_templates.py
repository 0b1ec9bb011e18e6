"""Template uploads that are huge, deeply nested, YAML bombs or otherwise not templates, through the page (pasted
and as a file) and the API: each refused quickly, with a message naming what is wrong, and nothing stored."""

import html
import json
import re
import time
import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import Product, ProductVersion, TemplateDocument

BUCKET = "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n"
# Billion laughs: nine levels of nine aliases each, 9**9 (387 million) nodes once expanded.
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)) + "Resources: *i\n"
CASES = {  # name: (template text, words the refusal says)
    "5 MB": (BUCKET + "# padding\n" * 500_000, ["bytes"]),
    "1.5 MB": (BUCKET + "# padding\n" * 150_000, ["1,000,000 bytes"]),
    "JSON nested 10,000 deep": ('{"Resources": ' + "[" * 10_000 + "]" * 10_000 + "}", ["GR004", "deeper than 100"]),
    "YAML nested 10,000 deep": ("Resources: " + "[" * 10_000 + "]" * 10_000 + "\n", ["nesting depth"]),  # libyaml's
    "YAML bomb": (BOMB, ["GR003", "alias bomb"]),
    "Python tag": ("Resources:\n  Bucket: !!python/object/apply:os.system ['touch /tmp/pwned']\n",
                   ["python/object/apply:os.system"]),
    "duplicate keys": (BUCKET + "  Bucket:\n    Type: AWS::SQS::Queue\n", ["Duplicate", "Bucket"]),
    "binary junk": (bytes(range(1, 32)).decode() * 100, ["GR002", "control character"]),
    "blank": ("  \n\n", ["GR005", "empty"]),
    "JSON array": ('[{"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}}]', ["GR005", "not a list"]),
    "unterminated string": ('{"' + '\\"' * 300_000, ["E0000"]),
    "600 resources": ("Resources:\n" + "".join(f"  B{i}:\n    Type: AWS::S3::Bucket\n" for i in range(600)),
                      ["GR007", "at most 500"]),
    "60,000 values": (BUCKET + "Metadata:\n  Junk: [" + ", ".join(["x"] * 60_000) + "]\n", ["GR008", "50,000"]),
}


@pytest.fixture
def lamp(people):
    return Product.objects.get(name="LAMP web server")


def _upload(client, channel: str, product: Product, text: str, name: str = "hostile"):
    if channel == "api":
        return client.post(f"/api/products/{product.pk}/versions/", json.dumps({"name": name, "template": text}),
                           content_type="application/json")
    data = {"name": name, "guidance": "DEFAULT"}
    if channel == "page file":
        data["template_file"] = SimpleUploadedFile("../../template.yaml", text.encode("utf-8", "surrogatepass"))
    else:
        data["template"] = text
    return client.post(f"/catalog/products/{product.pk}/versions/new/", data)


def _said(response) -> str:
    """The refusal's words: the API's JSON, the form's errors, or the error page's message."""
    body = response.content.decode()
    if response["Content-Type"].startswith("application/json"):
        return body
    found = re.findall(r'class="invalid-feedback[^"]*"[^>]*>(.*?)</ul>', body, re.S)
    found += re.findall(r'<h1 class="h3">.*?</h1>\s*<p>(.*?)</p>', body, re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", " ".join(found)))


def _stored() -> tuple[int, int]:
    return ProductVersion.objects.count(), TemplateDocument.objects.count()


@pytest.mark.parametrize("channel", ["page", "page file", "api"])
@pytest.mark.parametrize("case", CASES)
def test_it_refuses_at_once_saying_why(client, people, lamp, case, channel):
    text, words = CASES[case]
    if case == "5 MB" and channel != "page file":  # larger than any request body the portal reads
        words = ["2,621,440 bytes", "1,000,000 bytes"]
    elif case in ("5 MB", "1.5 MB") and channel == "page file":
        words = ["larger than 1 MB"]
    elif case == "blank" and channel != "api":  # the form sees nothing there
        words = ["Upload a file or paste the template"]
    client.force_login(people.admin)
    before, started = _stored(), time.perf_counter()
    response = _upload(client, channel, lamp, text)
    elapsed = time.perf_counter() - started
    said = _said(response)
    assert response.status_code in ((400,) if channel == "api" else (200, 400)), said
    assert all(word in said for word in words), f"{case} through the {channel}: {response.status_code} {said!r}"
    assert _stored() == before
    assert elapsed < 2, f"{case} through the {channel} took {elapsed:.2f} s"


@pytest.mark.parametrize("channel", ["page", "api"])
def test_it_refuses_a_yaml_bomb_in_bounded_memory(client, people, lamp, channel):
    client.force_login(people.admin)
    tracemalloc.start()
    try:
        response = _upload(client, channel, lamp, BOMB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "GR003" in response.content.decode()
    assert peak < 50 * 1024 * 1024, f"peak {peak / 1024 / 1024:.1f} MB"


def test_it_still_takes_an_ordinary_template_everywhere(client, people, lamp):
    client.force_login(people.admin)
    for channel, name in (("page", "ok-page"), ("page file", "ok-file"), ("api", "ok-api")):
        response = _upload(client, channel, lamp, BUCKET + f"# {name}\n", name)
        assert response.status_code in (201, 302), response.content.decode()[:2000]
