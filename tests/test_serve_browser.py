"""The panel's meeting in a real browser: the distribution's Chromium (never a browser
download), driven by Playwright, on the real ``talentrules serve`` process running the
sample workbook with a fresh session file.

As a facilitator would: open the printed link, filter the people list, open a
person, record an allocation that moves seats, budget and waitlist, and see the
summary move; go from person to person with the keyboard. As an observer would:
open the read-only link, find no form, and have a forged decision refused.

Skipped only when no chromium is installed (``apt-get install -y chromium``),
saying so; ``.ci/run`` installs it and sets ``TALENTRULES_REQUIRE_BROWSER``, which
makes a missing chromium a failure. ``TALENTRULES_CHROMIUM`` names another binary.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import live_server
import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_inputs" / "panel_review.xlsx"
CHROMIUM = (
    os.environ.get("TALENTRULES_CHROMIUM")
    or shutil.which("chromium")
    or shutil.which("chromium-browser")
)
PROJECTOR = {"width": 1280, "height": 800}
TIMEOUT_MS = 30_000  # a shared machine: pages are quick, but the machine may not be

if CHROMIUM is None and os.environ.get("TALENTRULES_REQUIRE_BROWSER"):
    pytest.fail(  # .ci/run sets it once it has installed chromium: CI never skips this
        "TALENTRULES_REQUIRE_BROWSER is set but no chromium is on PATH", pytrace=False
    )
if CHROMIUM is None:  # before Playwright is imported: nothing to drive
    pytest.skip(
        "no chromium on PATH: the browser test drives the distribution's Chromium "
        "(Debian: apt-get install -y chromium; .ci/run installs it)",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[live_server.LiveServer]:
    folder = tmp_path_factory.mktemp("browser")
    workbook = folder / SAMPLE.name
    shutil.copy(SAMPLE, workbook)
    with live_server.running(workbook, folder / "meeting.sqlite") as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    opened = browser.new_context(viewport=PROJECTOR)  # type: ignore[arg-type]
    opened.set_default_timeout(TIMEOUT_MS)
    yield opened
    opened.close()


def _figure(page: Page, label: str) -> str:
    """A headline figure of the summary (``<div><b>FIGURE</b><span>LABEL</span></div>``)."""
    span = page.locator(".figures div span", has_text=re.compile(f"^{re.escape(label)}$"))
    expect(span).to_have_count(1)
    return span.locator("xpath=preceding-sibling::b").inner_text()


def _amount(text: str) -> float:
    """'EUR 41,500' -> 41500.0."""
    found = re.search(r"-?[\d,]+(?:\.\d+)?", text)
    assert found, text
    return float(found.group(0).replace(",", ""))


def _rows(page: Page) -> list[dict[str, str]]:
    """The people list's rows, by the table's own headings."""
    table = page.locator("table#people")
    # textContent, not innerText: the headings are upper-cased by CSS only.
    headings = [h.strip() for h in table.locator("thead th").all_text_contents()]
    rows = []
    for row in table.locator("tr:has(td)").all():
        cells = [c.strip() for c in row.locator("td").all_text_contents()]
        rows.append(dict(zip(headings, cells, strict=True)))
    return rows


def _current(page: Page) -> dict[str, str]:
    """The person page's table of each field's value now."""
    values = {}
    for row in page.locator("table#current tr:has(td)").all():
        cells = [c.strip() for c in row.locator("td").all_text_contents()]
        values[cells[0]] = cells[1]
    return values


def _filter(page: Page, label: str, option: str) -> None:
    page.locator("form#filters label", has_text=label).locator("select").select_option(option)


def test_the_panel_filters_decides_and_sees_the_budget_move(
    server: live_server.LiveServer, context: BrowserContext
) -> None:
    with server.api() as api:
        earlier = len(live_server.decisions(api))
    page = context.new_page()
    page.goto(server.panel_url)
    # The tokened link sets the cookie and lands on the summary, token gone from the URL.
    expect(page.locator("h1")).to_have_text("Panel summary")
    assert "token=" not in page.url
    expect(page.locator("nav.servebar")).to_contain_text("panel: may decide")
    committed_before = _amount(_figure(page, "with the panel's decisions"))
    waitlist_before = int(_figure(page, "waitlist entries"))

    # The people list, filtered by allocation status, then also by the first one's unit.
    page.locator("nav.servebar a", has_text="People").click()
    expect(page.locator("h1")).to_have_text("People")
    everyone = len(_rows(page))
    _filter(page, "Allocation", "waitlisted")
    page.locator("form#filters button[type=submit]").click()
    page.wait_for_url(re.compile(r"/people\?.*status=waitlisted"))
    waiting = _rows(page)
    assert 0 < len(waiting) < everyone
    assert {row["Allocation"] for row in waiting} == {"waitlisted"}
    unit = waiting[-1]["Org unit"]
    _filter(page, "Org unit", unit)
    page.locator("form#filters button[type=submit]").click()
    page.wait_for_url(re.compile(r"org_unit="))
    narrowed = _rows(page)
    assert narrowed and len(narrowed) <= len(waiting)
    assert {(row["Allocation"], row["Org unit"]) for row in narrowed} == {("waitlisted", unit)}
    expect(
        page.locator("p.muted", has_text=f"{len(narrowed)} of {everyone} people")
    ).to_be_visible()

    # Open the person; the form shows what they wait for.
    chosen = narrowed[0]
    page.locator("table#people a", has_text=chosen["Name"]).click()
    page.wait_for_url(re.compile(rf"/people/{re.escape(chosen['Employee'])}$"))
    now = _current(page)
    waited = [
        name.split(" ", 1)[1]
        for name, value in now.items()
        if name.startswith("allocation ") and value == "waitlisted"
    ]
    assert waited, now
    code = waited[0]

    # Record the override: the seat this person waits for, allocated by the panel.
    form = page.locator("form#decision")
    form.locator("#decided_by").fill("A. Moreau")
    form.locator("#reason").fill("The panel funds this seat: the project starts in January.")
    form.locator("#field").select_option("allocation")
    form.locator("#value").fill(f"{code}: allocated")
    form.get_by_role("button", name="Record the change").click()
    expect(page.locator("#recorded")).to_contain_text("Recorded as decision")
    expect(page.locator("#refused")).to_have_count(0)
    assert _current(page)[f"allocation {code}"] == "allocated"
    history = page.locator("table#history")
    expect(history).to_contain_text(f"{code}: allocated")
    expect(history).to_contain_text("A. Moreau")
    # The decider's name is kept for the next decision in this browser.
    expect(page.locator("form#decision #decided_by")).to_have_value("A. Moreau")

    # The summary moves at once: more committed (the seat's cost), one fewer waiting.
    page.locator("nav.servebar a", has_text="Summary").click()
    expect(page.locator("h1")).to_have_text("Panel summary")
    assert _amount(_figure(page, "with the panel's decisions")) > committed_before
    assert int(_figure(page, "waitlist entries")) == waitlist_before - 1
    count = earlier + 1
    expect(page.locator("nav.servebar")).to_contain_text(
        f"{count} decision{'s' if count != 1 else ''} in the session"
    )

    # The same state through the API, and one decision more in the session.
    with server.api() as api:
        recorded = live_server.decisions(api)
        person = api.get(f"/api/people/{chosen['Employee']}").body
    assert [(d["employee_id"], d["value"], d["decided_by"]) for d in recorded[earlier:]] == [
        (chosen["Employee"], f"{code}: allocated", "A. Moreau")
    ]
    assert person["decided"][f"allocation {code}"] == "allocated"


def test_next_and_previous_person_from_the_keyboard(
    server: live_server.LiveServer, context: BrowserContext
) -> None:
    page = context.new_page()
    page.goto(server.panel_url)
    with server.api() as api:
        ids = [p["employee_id"] for p in live_server.people(api)]
    second, third = ids[1], ids[2]
    page.goto(f"{server.origin}/people/{second}")
    expect(page.locator("#next")).to_have_attribute("href", f"/people/{third}")
    page.keyboard.press("j")
    page.wait_for_url(re.compile(rf"/people/{third}$"))
    page.keyboard.press("k")
    page.wait_for_url(re.compile(rf"/people/{second}$"))
    page.keyboard.press("ArrowRight")
    page.wait_for_url(re.compile(rf"/people/{third}$"))
    page.keyboard.press("ArrowLeft")
    page.wait_for_url(re.compile(rf"/people/{second}$"))
    # Typing a j into the form is typing, not moving on.
    page.locator("form#decision #reason").click()
    page.keyboard.type("jk")
    page.wait_for_timeout(300)
    assert page.url.endswith(f"/people/{second}")
    expect(page.locator("form#decision #reason")).to_have_value("jk")
    # The first person has no previous one: k stays.
    page.goto(f"{server.origin}/people/{ids[0]}")
    expect(page.locator("#prev")).to_have_count(0)
    page.keyboard.press("k")
    page.wait_for_timeout(300)
    assert page.url.endswith(f"/people/{ids[0]}")


def test_two_panel_members_on_one_person_the_later_confirms(
    server: live_server.LiveServer, browser: Browser
) -> None:
    with server.api() as api:
        everyone = live_server.people(api)
        earlier = len(live_server.decisions(api))
    person = everyone[3]
    verdicts = sorted({p["heart"] for p in everyone} - {person["heart"]})
    url = f"{server.origin}/people/{person['employee_id']}"
    members = [browser.new_context(viewport=PROJECTOR) for _ in range(2)]  # type: ignore[arg-type]
    try:
        pages = []
        for member in members:
            page = member.new_page()
            page.goto(server.panel_url)
            page.goto(url)  # both see the person before either decides
            pages.append(page)

        def decide(page: Page, who: str, verdict: str) -> None:
            form = page.locator("form#decision")
            form.locator("#decided_by").fill(who)
            form.locator("#reason").fill(f"{who} heard the evidence")
            form.locator("#field").select_option("heart")
            form.locator("#value").fill(verdict)
            form.get_by_role("button", name="Record the change").click()

        decide(pages[0], "K. Osei", verdicts[0])
        expect(pages[0].locator("#recorded")).to_be_visible()
        # The later one is shown the earlier decision, and nothing of theirs is recorded.
        decide(pages[1], "L. Fontaine", verdicts[-1])
        stale = pages[1].locator("#stale")
        expect(stale).to_contain_text("K. Osei")
        expect(stale).to_contain_text(verdicts[0])
        expect(pages[1].locator("#recorded")).to_have_count(0)
        with server.api() as api:
            assert len(live_server.decisions(api)) == earlier + 1
        # Confirming records it: what they typed is still in the form.
        expect(pages[1].locator("form#decision #value")).to_have_value(verdicts[-1])
        pages[1].locator("form#decision").get_by_role("button", name="Record the change").click()
        expect(pages[1].locator("#recorded")).to_be_visible()
    finally:
        for member in members:
            member.close()
    with server.api() as api:
        mine = live_server.decisions(api)[earlier:]
    assert [(d["decided_by"], d["value"]) for d in mine] == [
        ("K. Osei", verdicts[0]),
        ("L. Fontaine", verdicts[-1]),
    ]
    assert mine[1]["against_seq"] == mine[0]["seq"]


def _forge(context: BrowserContext, url: str, form: dict[str, str]) -> Any:
    """A POST from this browser's cookies, as a page of another site could send one."""
    return context.request.post(url, form=form, max_redirects=0)


def test_the_read_only_link_cannot_decide(server: live_server.LiveServer, browser: Browser) -> None:
    with server.api() as api:
        before = len(live_server.decisions(api))
        first = live_server.people(api)[0]
    employee = first["employee_id"]
    person_url = f"{server.origin}/people/{employee}"

    # The panel's page, for a real form's CSRF secret to try with the observer's cookie.
    panel = browser.new_context(viewport=PROJECTOR)  # type: ignore[arg-type]
    panel_page = panel.new_page()
    panel_page.goto(server.panel_url)
    panel_page.goto(person_url)
    csrf = panel_page.locator("form#decision input[name=csrf]").get_attribute("value")
    assert csrf
    decision = {
        "decided_by": "Someone",
        "reason": "forged",
        "field": "heart",
        "value": first["heart"],
    }

    observer = browser.new_context(viewport=PROJECTOR)  # type: ignore[arg-type]
    try:
        page = observer.new_page()
        page.goto(server.observer_url)
        expect(page.locator("h1")).to_have_text("Panel summary")
        expect(page.locator("nav.servebar")).to_contain_text("read-only")
        page.goto(person_url)
        expect(page.locator("form#decision")).to_have_count(0)
        expect(page.locator("form[method=post]")).to_have_count(0)
        expect(page.get_by_role("button", name="Record the change")).to_have_count(0)
        expect(page.locator("aside#decide")).to_contain_text("read-only link")

        # Forged: the form's POST with the observer's cookie, with and without a secret.
        for extra in ({"csrf": csrf}, {}):
            reply = _forge(observer, person_url, {**decision, **extra})
            assert reply.status == 403, reply.text()
        # The API with the observer's cookie, and with the observer's token.
        reply = observer.request.post(
            f"{server.origin}/api/decisions", data={"employee_id": employee, **decision}
        )
        assert reply.status == 403, reply.text()
        with server.api(server.observer_token) as observing:
            answer = observing.post("/api/decisions", {"employee_id": employee, **decision})
        assert answer.status == 403 and "read-only" in answer.body["error"]

        # The panel's own cookie without the form's secret (a cross-site form): refused too.
        reply = _forge(panel, person_url, decision)
        assert reply.status == 403, reply.text()
        assert "CSRF" in reply.text()
    finally:
        observer.close()
        panel.close()
    with server.api() as api:
        assert len(live_server.decisions(api)) == before
