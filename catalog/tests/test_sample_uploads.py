"""Every real template in ../shared/samples/templates goes through the upload API as an admin would send it."""

import json
from pathlib import Path

import pytest
import yaml

from catalog.models import Product
from conftest import SAMPLES

TEMPLATES = Path(SAMPLES) / "templates"
SAMPLE_FILES = sorted(p for p in TEMPLATES.rglob("*") if p.suffix in {".yaml", ".yml", ".json", ".template"})
# Real defects, refused on purpose: (file name, what the refusal must say).
REFUSED = {
    "sc-s3-simple-ra.json": "line 10",  # a trailing comma: invalid JSON
    "sc-s3-public-ra.json": "E3045",  # a PublicRead ACL without OwnershipControls, which S3 now rejects
}


class _CfnLoader(yaml.SafeLoader):
    """Reads the declared parameters independently of the portal's loader: any !Tag becomes plain data."""


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def _declared(path: Path) -> dict:
    text = path.read_text()
    data = json.loads(text) if text.lstrip().startswith("{") else yaml.load(text, Loader=_CfnLoader)
    return data.get("Parameters") or {}


@pytest.mark.skipif(not SAMPLE_FILES, reason=f"the shared sample templates are absent here ({TEMPLATES})")
@pytest.mark.parametrize("path", SAMPLE_FILES, ids=[p.name for p in SAMPLE_FILES])
def test_it_uploads_each_real_sample(client, people, path):
    client.force_login(people.admin)
    product = Product.objects.get(name="LAMP web server")
    response = client.post(f"/api/products/{product.pk}/versions/", content_type="application/json",
                           data=json.dumps({"name": path.name, "template": path.read_text()}))
    if path.name in REFUSED:
        assert response.status_code == 400
        assert REFUSED[path.name] in " ".join(response.json()["template"])
        return
    assert response.status_code == 201, response.content
    declared = _declared(path)
    got = {p["key"]: p for p in response.json()["parameters"]}
    assert set(got) == set(declared)
    for key, source in declared.items():
        assert got[key]["type"] == source["Type"]
        assert (got[key]["description"] or "").strip() == str(source.get("Description") or "").strip()
        assert got[key]["allowed_values"] == [str(v) if not isinstance(v, bool) else str(v).lower()
                                              for v in source.get("AllowedValues", [])]
        assert got[key]["allowed_pattern"] == source.get("AllowedPattern")
        assert got[key]["no_echo"] == (str(source.get("NoEcho", "false")).lower() == "true")
        for attr, field in (("MinLength", "min_length"), ("MaxLength", "max_length"),
                            ("MinValue", "min_value"), ("MaxValue", "max_value")):
            assert (got[key][field] is None) == (attr not in source)
