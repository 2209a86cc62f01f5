"""Helpers of the end-to-end tests: a stdlib storefront customer, onec.py and gen_catalog.py runs, gunicorn.

The customer is what a browser without JavaScript does: it keeps cookies, reads the forms
of the pages it gets and posts them back with their CSRF token.
"""

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from http.cookiejar import CookieJar
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


class _Forms(HTMLParser):
    """Collects every <form> with its action and its inputs as (name, type, value, checked)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action") or "", "method": (a.get("method") or "get").lower(),
                          "class": a.get("class") or "", "inputs": []}
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "select") and a.get("name"):
            self._form["inputs"].append((a["name"], a.get("type", tag), a.get("value", ""), "checked" in a))
        elif self._form is not None and tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._form["inputs"].append((a["name"], "textarea", "", False))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None


def forms_of(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


class Customer:
    """One visitor of the storefront: cookies, CSRF, redirects followed."""

    def __init__(self, base_url: str, timeout: float = 30):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        self.url = ""

    def _open(self, url: str, data: bytes | None = None) -> str:
        request = urllib.request.Request(urllib.parse.urljoin(self.base_url + "/", url), data=data)
        if data is not None:
            request.add_header("Referer", self.url or self.base_url + "/")
        with self.opener.open(request, timeout=self.timeout) as response:
            self.url = response.geturl()
            return response.read().decode(response.headers.get_content_charset() or "utf-8")

    def get(self, path: str) -> str:
        return self._open(path)

    def submit(self, html: str, *, form_class: str = "", action: str = "", fields: dict) -> str:
        """Post the page's form (picked by class or action) with its hidden inputs, first radio choices and `fields`."""
        form = next(f for f in forms_of(html) if f["method"] == "post" and form_class in f["class"]
                    and (not action or f["action"] == action))
        data: dict[str, str] = {}
        for name, kind, value, checked in form["inputs"]:
            if kind == "hidden" or (kind == "radio" and (checked or name not in data)):
                data[name] = value
        data.update(fields)
        return self._open(form["action"] or self.url, urllib.parse.urlencode(data).encode())

    def buy(self, product_path: str, *, variant_id: int | None = None, quantity: int = 1, customer: dict) -> str:
        """Product page → add to cart → checkout form → the confirmation page's HTML (self.url is its URL)."""
        page = self.get(product_path)
        chosen = {"variant": str(variant_id)} if variant_id else {}
        self.submit(page, form_class="add-to-cart", fields={"quantity": str(quantity), **chosen})
        checkout = self.get("/checkout/")
        return self.submit(checkout, form_class="checkout-form", fields={"consent": "on", **customer})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gen_catalog(shared: Path, out: Path, *options: str) -> Path:
    subprocess.run([sys.executable, str(shared / "tools" / "gen_catalog.py"), *options, "--quiet", "--out", str(out)],
                   check=True, timeout=120)
    return out


def onec_command(shared: Path, kind: str, url: str, login: str, password: str, *args: str) -> list[str]:
    return [sys.executable, str(shared / "tools" / "onec.py"), kind, url, login, password, *args]


def onec(shared: Path, kind: str, url: str, login: str, password: str, *args: str, timeout: float = 120) -> dict:
    """Run onec.py to its end; print and return its JSON line; fail on a non-zero exit."""
    done = subprocess.run(onec_command(shared, kind, url, login, password, *args), capture_output=True, text=True,
                          timeout=timeout)
    print(f"onec.py {kind} {' '.join(args)}\n{done.stdout}{done.stderr}")  # the report quotes what onec.py said
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert done.returncode == 0, result
    return result


def wait_until(predicate, *, timeout: float, interval: float = 0.05, what: str = "condition"):
    """Poll `predicate` until it returns something truthy; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def url_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def manage(env: dict, *args: str, stdin: str | None = None) -> None:
    subprocess.run([sys.executable, str(REPO / "manage.py"), *args], env=env, cwd=REPO, input=stdin, text=True,
                   check=True, timeout=120, capture_output=True)


def gunicorn_start(env: dict, port: int, log_path: Path) -> subprocess.Popen:
    """Start `gunicorn shop.wsgi` (2 workers x 2 threads) and wait until it answers; the caller stops it."""
    binary = Path(sys.executable).with_name("gunicorn")
    log = open(log_path, "wb")  # noqa: SIM115 - the server writes into it until it stops
    process = subprocess.Popen(
        [str(binary), "shop.wsgi", "--workers", "2", "--threads", "2", "--bind", f"127.0.0.1:{port}",
         "--timeout", "60", "--graceful-timeout", "5",
         # gunicorn 23+ opens a control socket in ~/.gunicorn by default; keep it beside the log.
         "--control-socket", str(log_path.with_suffix(".ctl"))],
        env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
    )
    process.log_file = log
    try:
        wait_until(lambda: process.poll() is not None or url_answers(f"http://127.0.0.1:{port}/"), timeout=30,
                   what="gunicorn to answer")
    except AssertionError:
        gunicorn_stop(process)
        raise
    assert process.poll() is None, log_path.read_text(errors="replace")
    return process


def gunicorn_stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    process.log_file.close()
