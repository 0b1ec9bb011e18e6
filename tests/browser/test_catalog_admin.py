"""Adam builds a product in the browser and previews the form Daisy will see."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login

pytestmark = pytest.mark.browser
LAMP = Path(__file__).resolve().parents[2] / "catalog" / "demo" / "lamp-v2.yaml"


def test_it_lets_adam_build_a_product_and_preview_daisys_form(page, live_server, live_people, tmp_path):
    url = live_server.url
    login(page, url, "adam")
    page.get_by_role("link", name="Catalog", exact=True).click()
    page.get_by_role("link", name="New portfolio").click()
    page.get_by_label("Name", exact=True).fill("Payments data")
    page.get_by_label("Payments").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Payments data")).to_be_visible()

    page.get_by_role("link", name="New product").click()
    page.get_by_label("Name", exact=True).fill("Reporting server")
    page.get_by_label("Support email").fill("data@example.com")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Reporting server")).to_be_visible()

    page.get_by_role("link", name="Upload a version").click()
    page.get_by_label("Name", exact=True).fill("v1")
    page.get_by_label("…or paste the template").fill("Resources:\n  Broken: [\n")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("errors-template")).to_contain_text("line")
    page.get_by_label("…or paste the template").fill("")
    page.get_by_label("Template file").set_input_files(str(LAMP))
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("is ready")
    expect(page.get_by_test_id("diagram").locator("svg")).to_be_visible()
    expect(page.get_by_role("cell", name="DBPassword")).to_be_visible()

    page.get_by_role("link", name="Reporting server").click()
    page.get_by_role("link", name="Add a constraint").click()
    page.get_by_label("Type").select_option("PARAMETER")
    expect(page.get_by_label("Definition")).to_contain_text("InstanceType")
    page.get_by_label("Definition").fill('{"key": "InstanceType", "value": "t3.small", "locked": true}')
    page.get_by_role("button", name="Add constraint").click()
    expect(page.get_by_role("alert")).to_contain_text("Added a parameter constraint")

    page.get_by_role("link", name="View as a developer").click()
    form = page.get_by_test_id("launch-form")
    expect(form).to_contain_text("As a developer of Payments")
    field = page.get_by_test_id("field-InstanceType")
    expect(field).to_contain_text("locked")
    expect(field.locator("select")).to_have_value("t3.small")
    expect(page.get_by_test_id("field-DBPassword").locator("input")).to_have_attribute("type", "password")
