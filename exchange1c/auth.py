"""Who may exchange with the site (PROTOCOL.md §2; settings 9, 10, 11).

`authenticate()` decides for every request: debug mode, the IP allow-list, the checkauth
cookie (or `sessid=`), HTTP Basic (also from the environ keys Apache/FastCGI leave it in).
It either returns an `Identity` or raises `Denied` with the operator's text. Failed logins
are counted per address in the exchange log (the database, so all worker processes agree).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import authenticate as django_authenticate
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange1c import log as exchange_log
from exchange1c.models import ExchangeSession

COOKIE_NAME = "obmen_1c_exchange"
PERMISSION = "exchange1c.exchange_with_1c"
#: Wrong logins allowed per address within the window before the address is refused.
RATE_LIMIT_FAILURES = 10
RATE_LIMIT_MINUTES = 15
_TOKEN = re.compile(r"[0-9a-f]{16,64}")
_AUTH_KEYS = ("HTTP_AUTHORIZATION", "REDIRECT_HTTP_AUTHORIZATION", "REDIRECT_REDIRECT_HTTP_AUTHORIZATION")


@dataclass
class Identity:
    """Who is calling: `via` is "password", "session", "address" or "debug"."""

    client_ip: str
    via: str
    user: object | None = None
    session: ExchangeSession | None = None
    debug_mode: bool = False


@dataclass
class Denied(Exception):
    """The request may not go on; `lines` are the answer after `failure`."""

    lines: list[str]
    http_status: int = 200
    auth_failed: bool = False
    challenge: bool = False
    user: object | None = None
    extra: dict = field(default_factory=dict)

    def __str__(self):
        return " ".join(self.lines)


def client_ip(request, *, trust_forwarded_for: bool) -> str:
    """REMOTE_ADDR, or the last X-Forwarded-For hop when the site is behind a trusted proxy."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    if trust_forwarded_for:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        # Our own proxy appends the address it saw last; anything before it is the client's word.
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            candidate = hops[-1]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass
    try:
        return str(ipaddress.ip_address(remote))
    except ValueError:
        return ""  # a unix socket or garbage: no address, so never on the allow-list


def parse_networks(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The allow-list (setting 10): addresses and CIDR networks, one per line or comma-separated.

    Raises ValueError naming the first entry that is neither.
    """
    networks = []
    for raw in (text or "").replace(",", "\n").replace(";", "\n").splitlines():
        entry = raw.split("#", 1)[0].strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ValueError(entry) from exc
    return networks


def is_listed(ip: str, networks) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address.version == net.version and address in net for net in networks)


def _networks(cfg):
    try:
        return parse_networks(cfg.allowed_ips)
    except ValueError:
        # The settings form refuses bad entries; a bad row written otherwise lists nobody.
        return [n for n in _lenient_networks(cfg.allowed_ips)]


def _lenient_networks(text):
    for raw in (text or "").replace(",", "\n").replace(";", "\n").splitlines():
        try:
            yield ipaddress.ip_network(raw.split("#", 1)[0].strip(), strict=False)
        except ValueError:
            continue


def basic_credentials(request) -> tuple[str, str] | None:
    """(login, password) from HTTP Basic, wherever the web server left the header; else None."""
    for key in _AUTH_KEYS:
        value = request.META.get(key)
        if value:
            break
    else:
        return None
    scheme, _sep, token = value.strip().partition(" ")
    if scheme.lower() != "basic" or not token:
        return None
    try:
        raw = base64.b64decode(token.strip(), validate=False)
    except (binascii.Error, ValueError):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1251", errors="replace")  # 1C 7.7 sends Cyrillic logins in cp1251
    login, sep, password = text.partition(":")
    if not sep:
        return None
    return login, password


def may_exchange(user) -> bool:
    return bool(user and user.is_active and user.has_perm(PERMISSION))


def authenticate(request, *, kind: str, mode: str, cfg) -> Identity:
    """Let the request in or raise Denied (see the module docstring for the order of checks)."""
    ip = client_ip(request, trust_forwarded_for=cfg.trust_forwarded_for)
    if cfg.debug_mode:
        return Identity(client_ip=ip, via="debug", debug_mode=True,
                        session=_session_from_request(request, kind)[0])
    networks = _networks(cfg)
    listed = is_listed(ip, networks)
    # Without a list nobody could get in without a password, so 11 cannot be switched off then.
    logins_allowed = cfg.require_login or not networks
    if networks and not listed and (cfg.allowed_ips_only or not logins_allowed):
        raise Denied([_("Address %(ip)s is not in the list of addresses allowed to exchange (setting 10).")
                      % {"ip": ip}], http_status=403 if mode == "checkauth" else 200)

    session, session_problem = _session_from_request(request, kind)
    if session and session.via in ("debug", "address") and not listed:
        session, session_problem = None, "not_allowed"
    credentials = basic_credentials(request) if logins_allowed else None
    if credentials is not None:
        user = _check_password(request, ip, *credentials, checkauth=mode == "checkauth")
        if session is None or session.user_id != user.pk:
            session = _recent_session(kind, user=user, ip=ip, via="password")
        return Identity(client_ip=ip, via="password", user=user, session=session)
    if session is not None:
        if session.user_id and not may_exchange(session.user):
            raise Denied([_("Not authorized: user %(login)s may no longer exchange with 1C.")
                          % {"login": session.user.get_username()}])
        return Identity(client_ip=ip, via="session", user=session.user, session=session)
    if listed:
        return Identity(client_ip=ip, via="address", session=_recent_session(kind, user=None, ip=ip, via="address"))
    if mode == "checkauth":
        raise Denied([
            _("No login and password reached the site."),
            _("If they are filled in in 1C, the web server in front of the site strips the Authorization header: "
              "see docs/1c-setup.md (nginx: proxy_set_header Authorization $http_authorization; "
              "Apache: CGIPassAuth On)."),
        ], http_status=401, challenge=True)
    if session_problem == "expired":
        raise Denied([_("Not authorized: the exchange session has expired. Start the exchange again "
                        "(mode=checkauth).")])
    if session_problem:
        raise Denied([_("Not authorized: unknown exchange session. Start the exchange with mode=checkauth "
                        "and send back the cookie it answers.")])
    raise Denied([_("Not authorized: no exchange session cookie and no login. 1C must start with "
                    "mode=checkauth and send back the cookie it answers.")])


def _check_password(request, ip: str, login: str, password: str, *, checkauth: bool):
    status = 401 if checkauth else 200
    if "\x00" in login or "\x00" in password:
        # No user has such a name, and PostgreSQL would refuse to even look it up.
        login, password = login.replace("\x00", ""), ""
    if exchange_log.failed_logins(ip, minutes=RATE_LIMIT_MINUTES) >= RATE_LIMIT_FAILURES:
        raise Denied([_("Too many wrong logins from address %(ip)s; try again in %(minutes)s minutes.")
                      % {"ip": ip, "minutes": RATE_LIMIT_MINUTES}], http_status=429 if checkauth else 200)
    user = django_authenticate(request, username=login, password=password)
    if user is None:
        raise Denied([_("Wrong login or password for the exchange with 1C (login %(login)s).") % {"login": login}],
                     http_status=status, auth_failed=True, challenge=checkauth)
    if not may_exchange(user):
        raise Denied([_("User %(login)s may not exchange with 1C: give it the permission \"Can exchange data with "
                        "1C\" or run manage.py exchange_user.") % {"login": login}],
                     http_status=403 if checkauth else 200, auth_failed=True, user=user)
    return user


def _session_from_request(request, kind: str) -> tuple[ExchangeSession | None, str]:
    """The session the cookie (or, failing that, `sessid=`) names, and why not when none."""
    token = request.COOKIES.get(COOKIE_NAME) or request.GET.get("sessid") or ""
    if not token:
        return None, ""
    if not _TOKEN.fullmatch(token):
        return None, "unknown"
    session = ExchangeSession.objects.select_related("user").filter(token=token, kind=kind).first()
    if session is None:
        return None, "unknown"
    if session.is_expired:
        return None, "expired"
    return session, ""


def _recent_session(kind: str, *, user, ip: str, via: str) -> ExchangeSession | None:
    """The caller's live session of this kind, for clients that re-send Basic instead of the cookie.

    1C may log in again (checkauth) for each package of one exchange, sometimes without the
    cookie; finding its session again keeps the packages in one run (PROTOCOL.md §3.2).
    """
    return (
        ExchangeSession.objects.filter(kind=kind, user=user, client_ip=ip or None, via=via,
                                       expires_at__gt=timezone.now())
        .order_by("-created_at")
        .first()
    )


def open_session(identity: Identity, *, kind: str, cfg) -> ExchangeSession:
    """checkauth: renew the caller's session or start one; sets its `auth_timestamp`."""
    now = timezone.now()
    expires = now + timedelta(hours=cfg.session_hours)
    session = identity.session
    if session is None and identity.via == "debug":
        session = _recent_session(kind, user=None, ip=identity.client_ip, via="debug")
    stamp = int(time.time())
    if session is not None:
        session.expires_at = expires
        session.last_seen_at = now
        session.auth_timestamp = stamp
        session.save(update_fields=["expires_at", "last_seen_at", "auth_timestamp"])
        return session
    return ExchangeSession.objects.create(
        token=secrets.token_hex(24), kind=kind, user=identity.user, client_ip=identity.client_ip or None,
        via="password" if identity.user else identity.via, auth_timestamp=stamp, created_at=now,
        expires_at=expires, last_seen_at=now,
    )


def touch(session: ExchangeSession | None) -> None:
    if session is not None:
        ExchangeSession.objects.filter(pk=session.pk).update(last_seen_at=timezone.now())
