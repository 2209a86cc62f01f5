"""Helpers the exchange protocol tests share: a 1C-like client over Django's test client.

No tests live here; the module is named test_* only so that it sits with the tests it serves.
"""

import base64
import io
import zipfile
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from exchange1c.models import ExchangeSettings

LOGIN = "onec"
PASSWORD = "Obmen-1C-pass"
URL = "/exchange"


def make_exchange_user(login=LOGIN, password=PASSWORD, *, permission=True, active=True):
    user = get_user_model().objects.create_user(login, password=password, is_active=active)
    if permission:
        user.user_permissions.add(Permission.objects.get(codename="exchange_with_1c"))
    return user


def basic(login=LOGIN, password=PASSWORD, key="HTTP_AUTHORIZATION"):
    token = base64.b64encode(f"{login}:{password}".encode()).decode()
    return {key: f"Basic {token}"}


def configure(**fields):
    cfg = ExchangeSettings.get_solo()
    for name, value in fields.items():
        setattr(cfg, name, value)
    cfg.save()
    return cfg


def text_of(response) -> str:
    charset = response.charset or "utf-8"
    return response.content.decode(charset)


def lines_of(response) -> list[str]:
    return text_of(response).rstrip("\n").split("\n")


def zip_bytes(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


class OneC:
    """Speaks to /exchange as 1C does; the test client keeps the checkauth cookie."""

    def __init__(self, client, kind="catalog", url=URL, **extra):
        self.client = client
        self.kind = kind
        self.url = url
        self.extra = extra

    def url_for(self, mode, **params):
        return f"{self.url}?{urlencode({'type': self.kind, 'mode': mode, **params})}"

    def get(self, mode, headers=None, **params):
        return self.client.get(self.url_for(mode, **params), **{**self.extra, **(headers or {})})

    def lines(self, mode, **params):
        return lines_of(self.get(mode, **params))

    def checkauth(self, **headers):
        response = self.client.get(self.url_for("checkauth"), **{**self.extra, **basic(), **headers})
        return lines_of(response)

    def init(self, **params):
        return self.lines("init", **params)

    def start(self, **params):
        assert self.checkauth()[0] == "success"
        return self.init(**params)

    def upload(self, filename, data: bytes, **headers):
        response = self.client.post(self.url_for("file", filename=filename), data=data,
                                    content_type="application/octet-stream", **{**self.extra, **headers})
        return lines_of(response)

    def import_(self, filename):
        return self.lines("import", filename=filename)

    def poll(self, filename, max_polls=500):
        for _ in range(max_polls):
            out = self.import_(filename)
            if out[0] != "progress":
                return out
        raise AssertionError(f"still progress after {max_polls} polls")
