"""`talentrules serve`'s pages and JSON API through Starlette's TestClient: tokens,
the cookie, CSRF, the read-only link, decisions and their refusals, the concurrent
edit, filters; on the shipped sample with a real session file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from talentrules.paths import sample_workbook
from talentrules.run import RunResult, evaluate_workbook
from talentrules.serve.app import create_app
from talentrules.serve.auth import Tokens
from talentrules.serve.state import PanelState
from talentrules.session import open_session

PERSON = "00005"  # Priya Nair: Strong, three investments waitlisted


@pytest.fixture(scope="module")
def sample() -> RunResult:
    return evaluate_workbook(sample_workbook())


@pytest.fixture
def tokens() -> Tokens:
    return Tokens()


@pytest.fixture
def state(sample: RunResult, tmp_path: Path) -> Iterator[PanelState]:
    session = open_session(
        tmp_path / "s.session.sqlite",
        sample.panel.path.name,
        sample.panel.sha256,
        sample.rulebook.sha256,
    )
    yield PanelState(sample, session)
    session.close()


@pytest.fixture
def client(state: PanelState, tokens: Tokens) -> TestClient:
    return TestClient(create_app(state, tokens), base_url="http://127.0.0.1:8765")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def decision(**values: object) -> dict[str, object]:
    body: dict[str, object] = {
        "employee_id": PERSON,
        "field": "heart",
        "value": "Emerging",
        "reason": "seen in the meeting",
        "decided_by": "A. Chair",
    }
    body.update(values)
    return body


def logged_in(client: TestClient, token: str) -> TestClient:
    response = client.get(f"/?token={token}", follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found, "no CSRF field in the form"
    return found.group(1)


# --- tokens ---------------------------------------------------------------------------


def test_every_request_needs_a_token(client: TestClient, tokens: Tokens) -> None:
    for path in ("/", "/people", f"/people/{PERSON}", "/assets/serve.js"):
        response = client.get(path)
        assert response.status_code == 401 and "link printed" in response.text
    response = client.get("/api/people")
    assert response.status_code == 401
    assert response.json()["error"].startswith("This session needs the link printed")
    assert client.get("/api/people", headers=bearer("wrong")).status_code == 403
    assert client.get("/api/people", headers=bearer(tokens.panel)).status_code == 200
    assert client.get("/api/people", headers=bearer(tokens.observer)).status_code == 200


def test_a_tokened_link_sets_the_cookie_and_leaves_the_address_bar(
    client: TestClient, tokens: Tokens
) -> None:
    assert client.get("/people?token=wrong", follow_redirects=False).status_code == 403
    response = client.get(f"/people?heart=Strong&token={tokens.panel}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/people?heart=Strong"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{tokens.cookie}={tokens.panel};")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    page = client.get("/people?heart=Strong")
    assert page.status_code == 200 and "<h1>People</h1>" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_the_read_only_link_views_but_never_decides(client: TestClient, tokens: Tokens) -> None:
    logged_in(client, tokens.observer)
    page = client.get(f"/people/{PERSON}")
    assert page.status_code == 200 and "read-only link" in page.text
    assert 'id="decision"' not in page.text  # no decision form
    response = client.post(f"/people/{PERSON}", data={"field": "heart", "value": "Emerging"})
    assert response.status_code == 403 and "read-only link" in response.text
    api = client.post("/api/decisions", json=decision(), headers=bearer(tokens.observer))
    assert api.status_code == 403
    assert api.json() == {"error": "The read-only link can view the session but not decide."}
    assert client.get("/api/session").json()["decisions"] == []


# --- CSRF -----------------------------------------------------------------------------


def form(page: str, **values: str) -> dict[str, str]:
    data = {
        "csrf": csrf_of(page),
        "against_seq": re.search(r'name="against_seq" value="(\d+)"', page).group(1),  # type: ignore[union-attr]
        "decided_by": "A. Chair",
        "reason": "seen in the meeting",
        "field": "heart",
        "value": "Emerging",
    }
    data.update(values)
    return data


def test_a_form_without_the_right_csrf_token_is_refused(client: TestClient, tokens: Tokens) -> None:
    logged_in(client, tokens.panel)
    page = client.get(f"/people/{PERSON}").text
    for csrf in ("", "0" * 64):
        response = client.post(f"/people/{PERSON}", data=form(page, csrf=csrf))
        assert response.status_code == 403 and "CSRF token is missing or wrong" in response.text
    data = form(page)
    del data["csrf"]
    assert client.post(f"/people/{PERSON}", data=data).status_code == 403
    # The API by cookie needs the secret in a header; by Bearer it is exempt.
    assert client.post("/api/decisions", json=decision()).status_code == 403
    headers = {"X-CSRF-Token": csrf_of(page)}
    assert client.post("/api/decisions", json=decision(), headers=headers).status_code == 201
    client.cookies.clear()
    assert (
        client.post("/api/decisions", json=decision(), headers=bearer(tokens.panel)).status_code
        == 201
    )
    recorded = client.get("/api/session", headers=bearer(tokens.panel)).json()["decisions"]
    assert [d["seq"] for d in recorded] == [1, 2]


def test_the_form_records_a_decision_and_the_page_shows_it(
    client: TestClient, tokens: Tokens
) -> None:
    logged_in(client, tokens.panel)
    page = client.get(f"/people/{PERSON}").text
    response = client.post(f"/people/{PERSON}", data=form(page), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/people/{PERSON}?recorded=1#decide"
    shown = client.get(response.headers["location"]).text
    assert "Recorded as decision 1." in shown
    assert "session decision 1 by A. Chair" in shown  # the brief's overrides table
    assert re.search(r'id="history".*seen in the meeting', shown, re.S)
    assert 'name="against_seq" value="1"' in shown
    assert 'value="A. Chair"' in shown  # the decider's name is filled in next time
    # A name in any script, as recorded and as filled in again.
    page = client.get(f"/people/{PERSON}").text
    data = form(page, decided_by="Zoë Ørsted 李", value="Strong")
    assert client.post(f"/people/{PERSON}", data=data).status_code == 200
    assert 'value="Zoë Ørsted 李"' in client.get(f"/people/{PERSON}").text
    assert client.get("/api/session").json()["decisions"][-1]["decided_by"] == "Zoë Ørsted 李"


def test_accept_records_the_rules_value(client: TestClient, tokens: Tokens) -> None:
    logged_in(client, tokens.panel)
    page = client.get(f"/people/{PERSON}").text
    data = form(page, reason="", value="", accept="investment")
    assert client.post(f"/people/{PERSON}", data=data).status_code == 200
    [recorded] = client.get("/api/session").json()["decisions"]
    assert recorded["field"] == "investment"
    assert recorded["value"] == "LEAD-STRETCH; LEAD-MENTOR; LEAD-PROG"
    assert recorded["reason"] == "Accepted as recommended."
    person = client.get(f"/api/people/{PERSON}").json()
    assert person["override"][0]["direction"] == "confirm"


def test_a_refused_form_keeps_what_was_typed(client: TestClient, tokens: Tokens) -> None:
    logged_in(client, tokens.panel)
    page = client.get(f"/people/{PERSON}").text
    response = client.post(f"/people/{PERSON}", data=form(page, value="Very strong"))
    assert response.status_code == 400
    assert "&#39;Very strong&#39; is not a value of heart" in response.text
    assert 'value="Very strong"' in response.text
    assert client.get("/api/session").json()["decisions"] == []


# --- the API ----------------------------------------------------------------------------


def test_a_decision_through_the_api(client: TestClient, tokens: Tokens) -> None:
    headers = bearer(tokens.panel)
    before = client.get("/api/summary", headers=headers).json()
    body = decision(field="investment", value="LEAD-STRETCH; LEAD-MENTOR; LEAD-PROG; RET")
    response = client.post("/api/decisions", json=body, headers=headers)
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["decision"]["seq"] == 1 and data["decision"]["decided_by"] == "A. Chair"
    assert data["decision"]["origin"] == "session decision 1 by A. Chair"
    assert data["person"]["employee_id"] == PERSON
    assert "RET" in data["person"]["decided"]["investment"]
    assert [e["code"] for e in data["person"]["plan"] if e["by"] == "panel"] == ["RET"]
    assert data["summary"]["committed"] > before["committed"]
    assert data["summary"]["seats"]["RET"]["allocated"] == before["seats"]["RET"]["allocated"] + 1
    people = client.get("/api/people", headers=headers).json()
    assert people["seq"] == 1 and len(people["people"]) == 45
    [priya] = [p for p in people["people"] if p["employee_id"] == PERSON]
    assert priya["override"][0]["cells"]["decision"] == "session decision 1 by A. Chair"


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (decision(employee_id="nobody"), 404, "'nobody' is not a person under review."),
        (decision(reason=""), 400, "The reason is needed but is blank."),
        (decision(field="salary"), 400, "'salary' is not a field (heart, track, investment"),
        (decision(value="Maybe"), 400, "'Maybe' is not a value of heart"),
        (decision(surprise=1), 400, "Unknown key 'surprise'"),
        (decision(against_seq="3"), 400, "against_seq must be a whole number."),
        (decision(value=5), 400, "value must be text."),
        ([1, 2], 400, "The body must be a JSON object"),
    ],
    ids=["person", "reason", "field", "value", "key", "seq", "type", "shape"],
)
def test_api_refusals(
    client: TestClient, tokens: Tokens, body: object, status: int, error: str
) -> None:
    response = client.post("/api/decisions", json=body, headers=bearer(tokens.panel))
    assert response.status_code == status
    assert response.json()["error"].startswith(error)
    assert response.json()["error"].endswith(".")


def test_two_stale_submissions_the_second_is_shown_the_first(
    client: TestClient, tokens: Tokens
) -> None:
    headers = bearer(tokens.panel)
    first = client.post("/api/decisions", json=decision(against_seq=0), headers=headers)
    assert first.status_code == 201
    second = client.post(
        "/api/decisions",
        json=decision(value="Not evidenced", decided_by="B. Member", against_seq=0),
        headers=headers,
    )
    assert second.status_code == 409
    earlier = second.json()["decision"]
    assert (earlier["seq"], earlier["decided_by"], earlier["value"]) == (1, "A. Chair", "Emerging")
    confirmed = client.post(
        "/api/decisions",
        json=decision(value="Not evidenced", decided_by="B. Member", against_seq=1),
        headers=headers,
    )
    assert confirmed.status_code == 201 and confirmed.json()["decision"]["seq"] == 2


def test_a_stale_form_shows_the_earlier_decision_and_asks_to_confirm(
    client: TestClient, tokens: Tokens
) -> None:
    logged_in(client, tokens.panel)
    page = client.get(f"/people/{PERSON}").text  # shown with no decision yet
    other = decision(value="Not evidenced", decided_by="B. Member", reason="other view")
    recorded = client.post("/api/decisions", json=other, headers=bearer(tokens.panel))
    assert recorded.status_code == 201
    response = client.post(f"/people/{PERSON}", data=form(page))
    assert response.status_code == 409
    assert "Decision 1 on this person was recorded after this page was shown" in response.text
    assert "B. Member" in response.text and "other view" in response.text
    assert 'name="against_seq" value="1"' in response.text  # resubmitting confirms
    again = client.post(f"/people/{PERSON}", data=form(response.text), follow_redirects=False)
    assert again.status_code == 303
    assert [d["seq"] for d in client.get("/api/session").json()["decisions"]] == [1, 2]


# --- pages --------------------------------------------------------------------------------


def test_the_people_list_filters_without_script(
    client: TestClient, tokens: Tokens, sample: RunResult
) -> None:
    logged_in(client, tokens.panel)
    everyone = client.get("/people").text
    assert "45 of 45 people." in everyone
    strong = client.get("/people?heart=Strong").text
    rows = re.findall(r'<tr><td class="cite">([^<]+)</td>', strong)
    heart = sample.rulebook.role("verdict")
    assert heart is not None
    expected = [
        r.employee_id for r in sample.results if r.evaluation.outcomes[heart.name] == ("Strong",)
    ]
    assert rows == expected and f"{len(expected)} of 45 people." in strong
    both = client.get("/people", params={"heart": "Strong", "status": "allocated"}).text
    assert 0 < len(re.findall(r'<tr><td class="cite">', both)) < len(expected)
    assert "<option selected>Strong</option>" in strong
    for name in ("org_unit", "manager", "heart", "track", "status"):
        assert f'name="{name}"' in everyone


def test_a_decision_moves_the_list(client: TestClient, tokens: Tokens) -> None:
    logged_in(client, tokens.panel)
    assert PERSON in client.get("/people?heart=Strong").text
    body = decision(value="Emerging")
    assert client.post("/api/decisions", json=body, headers=bearer(tokens.panel)).status_code == 201
    assert f">{PERSON}<" not in client.get("/people?heart=Strong").text
    assert f">{PERSON}<" in client.get("/people?heart=Emerging").text


def test_the_summary_links_names_to_person_pages(client: TestClient, tokens: Tokens) -> None:
    logged_in(client, tokens.panel)
    page = client.get("/").text
    assert 'href="/people/00001"' in page and "briefs/" not in page
    for section in ("distributions", "allocation", "waitlist", "fairness"):
        assert f'id="{section}"' in page
    assert "The measures are the panel&#39;s decisions as recorded so far" in page
    assert '<script src="/assets/serve.js" defer></script>' in page


def test_person_page_has_the_brief_the_form_and_the_keys(
    client: TestClient, tokens: Tokens
) -> None:
    logged_in(client, tokens.panel)
    page = client.get(f"/people/{PERSON}").text
    assert "Justification brief" in page and 'id="decision"' in page
    assert 'href="/people/00004" id="prev"' in page and 'href="/people/00006" id="next"' in page
    script = client.get("/assets/serve.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert '"j"' in script.text and '"k"' in script.text and "ArrowRight" in script.text
    assert client.get("/people/nobody").status_code == 404


def test_the_printed_links_and_the_warning_beyond_localhost(tokens: Tokens) -> None:
    from talentrules.serve.server import host_warning, links

    shown = links("127.0.0.1", 40123, tokens)
    assert shown.panel == f"http://127.0.0.1:40123/?token={tokens.panel}"
    assert shown.observer == f"http://127.0.0.1:40123/?token={tokens.observer}"
    assert links("::1", 8765, tokens).panel.startswith("http://[::1]:8765/?token=")
    assert host_warning("127.0.0.1") is None and host_warning("localhost") is None
    warning = host_warning("0.0.0.0")
    assert warning is not None and "not only this computer" in warning
    assert len({tokens.panel, tokens.observer, Tokens().panel}) == 3  # new at every start


def test_accepted_connections_send_at_once() -> None:
    """asyncio (and so uvicorn) sets TCP_NODELAY only on a socket made with the TCP
    protocol named; without it each answer on a kept-alive connection waited for
    Nagle's ~40 ms."""
    import asyncio
    import socket

    from talentrules.serve.server import bind

    async def nodelay_of_accepted() -> int:
        listening = bind("127.0.0.1", 0)
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def on_connect(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accepted = writer.get_extra_info("socket")
            seen.set_result(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(on_connect, sock=listening)
        port = listening.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        result = await asyncio.wait_for(seen, 5)
        writer.close()
        server.close()
        await server.wait_closed()
        return result

    assert asyncio.run(nodelay_of_accepted()) != 0
