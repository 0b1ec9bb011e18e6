"""Every main page has a title, landmarks, one heading to start from, and a name for every control; the sign-in and
the way to the alerts work from the keyboard alone. Each page's screenshot is written to var/screenshots/ for
review (not compared: a person looks at them)."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"

# A control's accessible name, as a screen reader finds it (a simplified version of the accname rules).
_UNNAMED = """() => {
  const named = (el) => {
    if (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.getAttribute('title')) return true;
    if (el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`)) return true;
    if (el.closest('label')) return true;
    if ((el.tagName === 'BUTTON' || el.tagName === 'A') && el.textContent.trim()) return true;
    if (el.tagName === 'INPUT' && ['submit', 'button', 'reset'].includes(el.type) && el.value) return true;
    return false;
  };
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  return [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button, a[href]')]
    .filter(visible).filter((el) => !named(el))
    .map((el) => el.outerHTML.slice(0, 160));
}"""


def _pages():
    from catalog.models import Product

    product = Product.objects.order_by("pk").first()
    return [
        ("home", "/"), ("catalog", "/catalog/"), ("product", f"/catalog/products/{product.pk}/"),
        ("launches", "/catalog/launches/"), ("events", "/audit/events/"), ("inventory", "/audit/resources/"),
        ("compliance", "/compliance/"), ("policies", "/compliance/policies/"), ("dry-runs", "/compliance/dry-runs/"),
        ("alerts-dashboard", "/triage/"), ("alerts", "/triage/alerts/"), ("signatures", "/triage/signatures/"),
        ("flow-logs", "/triage/flow-logs/"), ("threat-lists", "/triage/threat-lists/"), ("org", "/triage/org/"),
        ("alarms", "/triage/alarms/"), ("accounts", "/accounts/"), ("teams", "/teams/"),
    ]


def test_every_main_page_has_a_title_landmarks_a_heading_and_named_controls(page, live_server, live_people):
    from triage.builtin_signatures import builtin_seed

    builtin_seed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    login(page, live_server.url, "adam")
    problems = []
    for name, path in _pages():
        answer = page.goto(f"{live_server.url}{path}")
        if answer is None or answer.status != 200:
            problems.append(f"{path}: status {answer.status if answer else 'none'}")
            continue
        title = page.title()
        if not title or title.strip() == "Guardrail" or "·" not in title:
            problems.append(f"{path}: title {title!r} does not name the page")
        if page.locator("main").count() != 1:
            problems.append(f"{path}: {page.locator('main').count()} <main> landmarks")
        if page.locator("nav").count() < 1:
            problems.append(f"{path}: no <nav> landmark")
        if page.locator("h1").count() != 1:
            problems.append(f"{path}: {page.locator('h1').count()} <h1> headings")
        if page.locator("html[lang]").count() != 1:
            problems.append(f"{path}: <html> has no lang")
        unnamed = page.evaluate(_UNNAMED)
        if unnamed:
            problems.append(f"{path}: controls without a name: {unnamed[:3]}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:  # at the default 1280 px nothing may run off the side (the sign-out button did)
            problems.append(f"{path}: {overflow} px wider than the window")
        if page.locator("img:not([alt])").count():
            problems.append(f"{path}: images without alt")
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert not problems, "\n".join(problems)


def test_signing_in_and_reaching_the_alerts_work_from_the_keyboard(page, live_server, live_people):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").focus()
    page.keyboard.type("audrey")
    page.keyboard.press("Tab")
    page.keyboard.type("guardrail-demo")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Alerts", exact=True)).to_be_visible()
    for _ in range(40):  # Tab through the navigation to the Alerts link, then follow it with Enter
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Alerts":
            break
    else:
        pytest.fail("the Alerts link is not reachable with Tab")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/triage/")


def test_an_admin_reaches_the_operations_page_through_the_admin_menu_by_keyboard(page, live_server, live_people):
    login(page, live_server.url, "adam")
    page.get_by_test_id("nav-more").focus()
    page.keyboard.press("Enter")  # opens the menu
    expect(page.get_by_role("link", name="Operations")).to_be_visible()
    page.keyboard.press("ArrowDown")
    for _ in range(4):
        if page.evaluate("document.activeElement.textContent.trim()") == "Operations":
            break
        page.keyboard.press("ArrowDown")
    else:
        pytest.fail("Operations is not reachable with the arrow keys")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/ops/")
    expect(page.get_by_test_id("nav-more")).to_have_text("Admin")
    expect(page.get_by_test_id("nav-more")).to_have_class(re.compile(r"\bactive\b"))
