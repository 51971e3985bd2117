"""The routes of ``talentrules serve``: the pages for the panel and the JSON API.

Pages: ``/`` the summary, ``/people`` the list (filters as GET parameters),
``/people/ID`` one person's brief with the decision form, ``POST /people/ID`` the form.
API: ``GET /api/people``, ``GET /api/people/ID``, ``POST /api/decisions``,
``GET /api/session``, ``GET /api/summary``. Every request needs a token
(``auth``); the work runs in Starlette's thread pool, off the event loop.
"""

from __future__ import annotations

import html
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from talentrules.errors import SessionError, UnknownPersonError
from talentrules.paths import default_templates_dir
from talentrules.report import Renderer
from talentrules.serve.auth import CSRF_FIELD, CSRF_HEADER, Role, Tokens, bearer
from talentrules.serve.pages import people_filters, people_rows, person_extras
from talentrules.serve.state import ACCEPTED, PanelState, Refused
from talentrules.session import StaleDecision

DECIDER_COOKIE = "talentrules_decided_by"  # the name this browser decided under last
MAX_BODY = 64 * 1024  # a decision is a few hundred bytes
HEADERS = {
    # Everything is served from here: no other origin, no framing, no referrer.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
Handler = Callable[[Request], Awaitable[Response]]


def _error(status: int, text: str, api: bool) -> Response:
    if api:
        return JSONResponse({"error": text}, status, headers=HEADERS)
    page = f"<!DOCTYPE html><title>talentrules serve</title><p>{html.escape(text)}</p>"
    return HTMLResponse(page, status, headers=HEADERS)


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


class Site:
    """The app's handlers around one PanelState, its tokens and its templates."""

    def __init__(self, state: PanelState, tokens: Tokens) -> None:
        self.state = state
        self.tokens = tokens
        self.renderer = Renderer()

    # -- who is asking -----------------------------------------------------------------

    def guard(self, handler: Handler, write: bool = False) -> Handler:
        """Run ``handler`` only for a known token; ``write`` handlers for the panel's
        token only, with the CSRF secret unless the token came in the header."""

        async def guarded(request: Request) -> Response:
            api = request.url.path.startswith("/api/")
            header_token = bearer(request.headers.get("authorization"))
            query_token = request.query_params.get("token")
            if query_token is not None and request.method == "GET" and header_token is None:
                return self._adopt(request, query_token)
            token = header_token or request.cookies.get(self.tokens.cookie)
            role = self.tokens.role(token)
            if role is None:
                what = "a wrong token" if token else "no token"
                return _error(
                    401 if not token else 403,
                    f"This session needs the link printed when talentrules serve started "
                    f"(the request had {what}).",
                    api,
                )
            request.state.role = role
            request.state.token = token
            if write:
                if role != "panel":
                    return _error(
                        403, "The read-only link can view the session but not decide.", api
                    )
                if header_token is None and not await self._csrf_ok(request, str(token)):
                    return _error(
                        403,
                        "The form's CSRF token is missing or wrong: reload the page and "
                        "decide again.",
                        api,
                    )
            response = await handler(request)
            response.headers.update(HEADERS)
            return response

        return guarded

    def _adopt(self, request: Request, token: str) -> Response:
        """A tokened link: set the cookie, then the same URL without the token."""
        if self.tokens.role(token) is None:
            return _error(
                403,
                "This link's token is not valid for this session: use the link printed "
                "when talentrules serve started.",
                request.url.path.startswith("/api/"),
            )
        rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
        target = request.url.path + (f"?{urlencode(rest)}" if rest else "")
        response = RedirectResponse(target, 303, headers=HEADERS)
        response.set_cookie(self.tokens.cookie, token, httponly=True, samesite="strict", path="/")
        return response

    async def _csrf_ok(self, request: Request, token: str) -> bool:
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and _is_form(request):
            form = await _form(request)
            sent = form.get(CSRF_FIELD)
        return self.tokens.csrf_ok(token, sent)

    # -- pages -------------------------------------------------------------------------

    def _bar(self, request: Request, **extra: Any) -> dict[str, Any]:
        role: Role = request.state.role
        return {
            "role": role,
            "decisions": self.state.session.last_seq,
            "prev": None,
            "next": None,
            "csrf": self.tokens.csrf(request.state.token),
            **extra,
        }

    async def summary_page(self, request: Request) -> Response:
        def render() -> str:
            snapshot = self.state.current()
            return self.renderer.render(
                "serve_summary.html.j2", snapshot.summary, serve=self._bar(request)
            )

        return HTMLResponse(await run_in_threadpool(render))

    async def people_page(self, request: Request) -> Response:
        def render() -> str:
            snapshot = self.state.current()
            chosen = {k: v for k, v in request.query_params.items() if v}
            rows = people_rows(snapshot, self.state.session)
            filters = people_filters(rows, chosen, snapshot.result.rulebook)
            shown = [
                row
                for row in rows
                if all(row[f["field"]] == f["chosen"] for f in filters if f["chosen"])
            ]
            doc = snapshot.builder.doc
            template = self.renderer.template("serve_people.html.j2")
            return template.render(
                doc=doc,
                serve=self._bar(request, filters=filters, people=shown, total=len(rows)),
            )

        return HTMLResponse(await run_in_threadpool(render))

    async def person_page(self, request: Request) -> Response:
        employee_id = request.path_params["employee_id"]
        return await run_in_threadpool(self._person, request, employee_id, {}, 200)

    def _person(
        self,
        request: Request,
        employee_id: str,
        extra: dict[str, Any],
        status: int,
    ) -> Response:
        snapshot = self.state.current()
        try:
            index = snapshot.result.index(employee_id)
        except UnknownPersonError as error:
            return _error(404, _sentence(str(error)), api=False)
        context = snapshot.builder.brief(index)
        decider = unquote(request.cookies.get(DECIDER_COOKIE, ""))
        serve = self._bar(request, **person_extras(self.state, snapshot, employee_id, decider))
        if request.query_params.get("recorded"):
            latest = self.state.session.latest_for(employee_id)
            if latest is not None:
                serve["notice"] = f"Recorded as decision {latest.seq}."
        serve.update(extra)
        html = self.renderer.render("serve_person.html.j2", context, serve=serve)
        return HTMLResponse(html, status)

    async def decide_form(self, request: Request) -> Response:
        employee_id = request.path_params["employee_id"]
        form = await _form(request)
        accept = form.get("accept")
        values = {
            "decided_by": form.get("decided_by", ""),
            "reason": form.get("reason", ""),
            "field": form.get("field", ""),
            "value": form.get("value", ""),
        }

        def work() -> Response:
            try:
                raw = dict(values)
                if accept:
                    raw["field"] = accept
                    raw["value"] = self.state.recommended_value(employee_id, accept)
                    raw["reason"] = raw["reason"].strip() or ACCEPTED
                self.state.decide(_raw(employee_id, raw), _int(form.get("against_seq"), default=0))
            except StaleDecision as stale:
                extra = {
                    "stale": stale.latest,
                    "against_seq": stale.latest.seq,
                    "form": values,
                }
                return self._person(request, employee_id, extra, 409)
            except Refused as refused:
                extra = {"error": refused.sentence, "form": values}
                return self._person(request, employee_id, extra, refused.status)
            except SessionError as error:
                extra = {"error": _sentence(str(error)), "form": values}
                return self._person(request, employee_id, extra, 500)
            target = f"/people/{quote(employee_id, safe='')}?recorded=1#decide"
            response = RedirectResponse(target, 303)
            # Percent-encoded: a name in any script, where a header takes Latin-1 only.
            name = quote(values["decided_by"].strip()[:200], safe=" .'-")
            response.set_cookie(DECIDER_COOKIE, name, httponly=True, samesite="strict")
            return response

        return await run_in_threadpool(work)

    async def asset(self, request: Request) -> Response:
        script = (default_templates_dir() / "serve.js").read_text(encoding="utf-8")
        return Response(script, media_type="text/javascript")

    # -- the API -----------------------------------------------------------------------

    async def api_people(self, request: Request) -> Response:
        def work() -> dict[str, Any]:
            snapshot = self.state.current()
            ids = [r.employee_id for r in snapshot.result.results]
            return {"seq": snapshot.seq, "people": [snapshot.person(e) for e in ids]}

        return JSONResponse(await run_in_threadpool(work))

    async def api_person(self, request: Request) -> Response:
        employee_id = request.path_params["employee_id"]

        def work() -> Response:
            snapshot = self.state.current()
            try:
                return JSONResponse(snapshot.person(employee_id))
            except UnknownPersonError as error:
                return _error(404, str(error), api=True)

        return await run_in_threadpool(work)

    async def api_summary(self, request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(lambda: self.state.current().totals()))

    async def api_session(self, request: Request) -> Response:
        session = self.state.session
        return JSONResponse(
            {
                "meta": session.meta.__dict__,
                "decisions": [d.as_json() for d in list(session.decisions)],
            }
        )

    async def api_decide(self, request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY:
            return _error(413, f"The body is over {MAX_BODY} bytes.", api=True)
        try:
            data = json.loads(body or b"null")
        except ValueError:
            return _error(400, "The body is not JSON.", api=True)
        if not isinstance(data, dict):
            return _error(
                400,
                "The body must be a JSON object with employee_id, field, value, reason "
                "and decided_by.",
                api=True,
            )
        unknown = sorted(set(data) - {*_API_KEYS, "against_seq"})
        if unknown:
            return _error(
                400,
                f"Unknown key {', '.join(map(repr, unknown))}: a decision takes "
                f"{', '.join(_API_KEYS)} and against_seq.",
                api=True,
            )
        against = data.get("against_seq")
        if against is not None and (isinstance(against, bool) or not isinstance(against, int)):
            return _error(400, "against_seq must be a whole number.", api=True)
        for key in _API_KEYS:
            if data.get(key) is not None and not isinstance(data[key], str):
                return _error(400, f"{key} must be text.", api=True)

        def work() -> Response:
            try:
                decision, snapshot = self.state.decide(
                    _raw(str(data.get("employee_id") or ""), data), against
                )
            except StaleDecision as stale:
                return JSONResponse(
                    {"error": _sentence(str(stale)), "decision": stale.latest.as_json()}, 409
                )
            except Refused as refused:
                return _error(refused.status, refused.sentence, api=True)
            except SessionError as error:  # the file cannot take it: say so, keep serving
                return _error(500, _sentence(str(error)), api=True)
            return JSONResponse(
                {
                    "decision": decision.as_json(),
                    "person": snapshot.person(decision.employee_id),
                    "summary": snapshot.totals(),
                },
                201,
            )

        return await run_in_threadpool(work)


_API_KEYS = ("employee_id", "field", "value", "reason", "decided_by")


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _raw(employee_id: str, values: dict[str, Any]) -> dict[str, object]:
    """Submitted values as an Overrides row's columns (decided_on: the session's time)."""
    return {
        "employee_id": employee_id,
        "field": values.get("field"),
        "decision": values.get("value"),
        "reason": values.get("reason"),
        "decided_by": values.get("decided_by"),
    }


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        return default


def _is_form(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form (the only kind the pages send), read once per request."""
    cached = getattr(request.state, "form", None)
    if cached is None:
        body = await request.body()
        text = body[:MAX_BODY].decode("utf-8", "replace") if _is_form(request) else ""
        cached = dict(parse_qsl(text, keep_blank_values=True))
        request.state.form = cached
    return dict(cached)


def create_app(state: PanelState, tokens: Tokens) -> Starlette:
    """The ASGI app for one session."""
    site = Site(state, tokens)
    g = site.guard
    routes = [
        Route("/", g(site.summary_page)),
        Route("/people", g(site.people_page)),
        Route("/people/{employee_id:path}", g(site.person_page)),
        Route("/people/{employee_id:path}", g(site.decide_form, write=True), methods=["POST"]),
        Route("/assets/serve.js", g(site.asset)),
        Route("/api/people", g(site.api_people)),
        Route("/api/people/{employee_id:path}", g(site.api_person)),
        Route("/api/summary", g(site.api_summary)),
        Route("/api/session", g(site.api_session)),
        Route("/api/decisions", g(site.api_decide, write=True), methods=["POST"]),
    ]
    return Starlette(routes=routes)
