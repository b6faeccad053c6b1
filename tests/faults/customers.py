"""Customers renewing over HTTP through the load balancer, as people do during an incident: an
error page makes them wait a little and try again (reload, or press the button once more)."""

import http.client
import random
import re
import time
import urllib.parse
from dataclasses import dataclass, field

from tests.journey import STEPS

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
ACCEPTANCE = re.compile(r"K-\d{4}-\d{4}-\d{3}")
BUSY = ("ただいまサービスを利用できません", "ただいま混雑しています")
WAIT = "しばらく時間をおいてから、もう一度お試しください"  # a rate limit's page or form message


def main_text(html: str) -> str:
    """What the page says (its <main>, without tags): the message a customer would read."""
    main = html.split("<main", 1)[-1].split("</main>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", main).split())[:400]


@dataclass
class Answer:
    """One answer the customer saw: ``kind`` is page, redirect, busy (the Japanese 503), wait (a
    Japanese page asking to wait: a rate limit) or bad."""

    at: float
    method: str
    path: str
    status: int
    request_id: str | None
    kind: str
    detail: str = ""


class Unavailable(Exception):
    """An answer that says "try again later" (or none at all)."""


class JourneyError(Exception):
    pass


@dataclass
class Customer:
    port: int
    email: str
    contract_id: int
    source: str  # the customer's own address (127.0.0.x), as the balancer sees it
    password: str
    cookies: dict[str, str] = field(default_factory=dict)
    answers: list[Answer] = field(default_factory=list)
    pressed: bool = False  # 【申し込む】 was pressed at least once
    acceptance_number: str | None = None
    error: str | None = None

    # --- one request -----------------------------------------------------------------------

    def send(self, method: str, path: str, data: dict | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data or {}, doseq=True) if method == "POST" else None
        headers = {
            "Host": "127.0.0.1",
            "Accept-Language": "ja",
            "Connection": "close",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=60, source_address=(self.source, 0)
        )
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
        except (OSError, http.client.HTTPException) as error:
            self.answers.append(
                Answer(time.time(), method, path, 0, None, "bad", f"no answer: {error!r}")
            )
            raise Unavailable from error
        finally:
            connection.close()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        status = response.status
        answer = Answer(
            time.time(), method, path, status, response.getheader("X-Request-ID"), "page"
        )
        if "Traceback" in text:
            answer.kind, answer.detail = "bad", text[:500]
        elif status == 503 and any(phrase in text for phrase in BUSY):
            answer.kind = "busy"
        elif status == 429 and '<html lang="ja"' in text and WAIT in text:
            answer.kind = "wait"
        elif status in (301, 302, 303):
            answer.kind = "redirect"
        elif status != 200 or '<html lang="ja"' not in text:
            answer.kind, answer.detail = "bad", text[:500]
        if status == 200 and method == "POST" and WAIT in main_text(text):
            answer.kind = "wait"  # the form came back asking to wait (a rate limit)
        self.answers.append(answer)
        if answer.kind in ("busy", "wait"):
            raise Unavailable
        return status, response.getheader("Location") or "", text

    def patiently(self, action, *args):
        """Do ``action`` until it gets a real answer, waiting between tries like a person."""
        for _ in range(60):
            try:
                return action(*args)
            except Unavailable:
                time.sleep(random.uniform(1.0, 2.5))
        raise JourneyError(f"still unavailable after 60 tries: {action.__name__}{args}")

    # --- the journey -----------------------------------------------------------------------

    def page(self, path: str) -> tuple[str, str]:
        """GET ``path`` following redirects: (final path, html)."""
        for _ in range(10):
            status, location, text = self.send("GET", path)
            if status not in (301, 302, 303):
                return path, text
            path = location
        raise JourneyError(f"too many redirects from {path}")

    def form(self, path: str, data: dict) -> str:
        """Open the page of the form, fill it in, send it: the Location it redirects to."""
        final, html = self.page(path)
        token = CSRF.search(html)
        if token is None:
            raise JourneyError(f"no form on {final} (opened {path})")
        status, location, text = self.send(
            "POST", path, {**data, "csrfmiddlewaretoken": token.group(1)}
        )
        if status not in (302, 303):
            raise JourneyError(f"POST {path} → {status}: {main_text(text)}")
        return location

    def log_in(self) -> None:
        final, _html = self.page("/mypage/login/")
        if not final.startswith("/mypage/login/"):
            return  # the previous try had logged in; its answer was lost
        self.form("/mypage/login/", {"login": self.email, "password": self.password})

    def submit(self, url: str, key: str, token: str) -> str:
        """【申し込む】: pressed again with the same key when no answer came back."""
        self.pressed = True
        status, location, text = self.send(
            "POST", url, {"intent": "on", "idempotency_key": key, "csrfmiddlewaretoken": token}
        )
        if status not in (302, 303):
            raise JourneyError(f"submit → {status}: {main_text(text)}")
        return location

    def run(self, delay: float, think: float) -> None:
        time.sleep(delay)
        try:
            self.patiently(self.log_in)
            base = f"/clickar/{self.contract_id}"
            self.patiently(self.page, f"{base}/")
            for slug, data in STEPS:
                time.sleep(random.uniform(0, think))
                self.patiently(self.form, f"{base}/{slug}/", data)
            _final, html = self.patiently(self.page, f"{base}/confirm/")
            key, token = KEY.search(html), CSRF.search(html)
            if key is None or token is None:
                raise JourneyError("the confirmation page has no form")
            location = self.patiently(self.submit, f"{base}/confirm/", key.group(1), token.group(1))
            _final, html = self.patiently(self.page, location)
            found = ACCEPTANCE.search(html)
            if found is None:
                raise JourneyError("no acceptance number on the completion page")
            self.acceptance_number = found.group()
        except (JourneyError, Unavailable) as error:
            self.error = str(error)


@dataclass
class Visitor:
    """Someone reading the agency's pages without pause, so that every fault finds requests in
    progress (the answers they get are checked like the customers')."""

    port: int
    source: str
    answers: list[Answer] = field(default_factory=list)

    def run(self, until: float) -> None:
        reader = Customer(self.port, "", 0, self.source, "")
        reader.answers = self.answers
        while time.monotonic() < until:
            try:
                reader.send("GET", "/agency/FAULT/")
            except Unavailable:
                time.sleep(0.5)
