"""A real OpenID Connect provider set up like ProConnect, for the tests (test support only).

``TestProvider`` runs ``node tests/support/oidc_provider.mjs`` (npm ``oidc-provider``, a
certified implementation) on 127.0.0.1 with one client, biblio-ia's hub, and test agents.
``proconnect_hub`` builds the matching ``LocalHub`` (``BIBLIO_AUTH=proconnect``). The
``Flow`` helpers drive a login with ``requests`` exactly as a browser would (redirects, the
provider's login form), stopping where a test wants to tamper with a step.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlparse, urlunparse

import requests

from hub.shared import free_port
from models.entries import REPO_ROOT
from tests.support.localhub import LocalHub

SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
CLIENT_ID = "biblio-ia-tests"
COLLECTIVITE_SIRET = "21750001600019"  # the SIRET format of a commune (fictional agent)
OTHER_SIRET = "13002526500013"  # the SIRET format of a State operator
AGENT_COLLECTIVITE = "jeanne.martin@mairie-exemple.fr"
AGENT_AUTRE = "paul.durand@operateur-exemple.fr"
AGENT_FAIBLE = "lea.petit@mairie-exemple.fr"  # a collectivité agent with a weak acr (eidas0)

ACCOUNTS = {
    AGENT_COLLECTIVITE: {
        "given_name": "Jeanne",
        "usual_name": "Martin",
        "email": AGENT_COLLECTIVITE,
        "uid": "jmartin",
        "siret": COLLECTIVITE_SIRET,
        "idp_id": "fi-mairie-exemple",
        "organization_label": "Commune d'Exemple-sur-Loire",
        "acr": "eidas1",
    },
    AGENT_AUTRE: {
        "given_name": "Paul",
        "usual_name": "Durand",
        "email": AGENT_AUTRE,
        "uid": "pdurand",
        "siret": OTHER_SIRET,
        "idp_id": "fi-operateur",
        "organization_label": "Opérateur national d'exemple",
        "acr": "eidas1",
    },
    AGENT_FAIBLE: {
        "given_name": "Léa",
        "usual_name": "Petit",
        "email": AGENT_FAIBLE,
        "uid": "lpetit",
        "siret": COLLECTIVITE_SIRET,
        "idp_id": "fi-mairie-exemple",
        "organization_label": "Commune d'Exemple-sur-Loire",
        "acr": "eidas0",
    },
}


@dataclass
class TestProvider:
    """``node oidc_provider.mjs`` on a free port of 127.0.0.1."""

    workdir: Path
    hub_url: str
    code_ttl: int = 5
    port: int = field(default_factory=free_port)
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    proc: subprocess.Popen | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> TestProvider:
        config = {
            "port": self.port,
            "issuer": self.issuer,
            "codeTtl": self.code_ttl,
            "accounts": ACCOUNTS,
            "clients": [
                {
                    "client_id": CLIENT_ID,
                    "client_secret": self.secret,
                    "redirect_uris": [f"{self.hub_url}/hub/oauth_callback"],
                    "post_logout_redirect_uris": [f"{self.hub_url}/hub/proconnect/deconnexion"],
                    "token_endpoint_auth_method": "client_secret_post",
                    "id_token_signed_response_alg": "RS256",
                    "userinfo_signed_response_alg": "RS256",
                }
            ],
        }
        path = Path(self.workdir) / "provider.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        self.log_path = Path(self.workdir) / "provider.log"
        self._log = open(self.log_path, "ab")  # noqa: SIM115 -- closed in stop()
        self.proc = subprocess.Popen(
            ["node", str(SCRIPT), str(path)],
            cwd=REPO_ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the provider exited:\n{self.log_text()}")
            try:
                url = self.issuer + "/.well-known/openid-configuration"
                if requests.get(url, timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the provider did not answer:\n{self.log_text()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if getattr(self, "_log", None):
            self._log.close()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except (AttributeError, FileNotFoundError):
            return ""

    def set_mode(self, **mode) -> None:
        requests.post(self.issuer + "/test/mode", json=mode, timeout=10).raise_for_status()


def proconnect_hub(workdir: Path, **env: str) -> tuple[LocalHub, TestProvider]:
    """A ``LocalHub`` in ProConnect mode and its started provider (the hub not started)."""
    hub = LocalHub(Path(workdir) / "hub")
    provider = TestProvider(Path(workdir), hub.url).start()
    sirets = Path(workdir) / "collectivites.txt"
    sirets.write_text(f"# collectivités de test\n{COLLECTIVITE_SIRET}\n", encoding="utf-8")
    hub.extra_env.update(
        {
            "BIBLIO_AUTH": "proconnect",
            "BIBLIO_PROCONNECT_ISSUER": provider.issuer,
            "BIBLIO_PROCONNECT_CLIENT_ID": CLIENT_ID,
            "BIBLIO_PROCONNECT_CLIENT_SECRET": provider.secret,
            "BIBLIO_PROCONNECT_COLLECTIVITES": str(sirets),
            **env,
        }
    )
    return hub, provider


def started(hub: LocalHub, provider: TestProvider):
    """Fixture body: start ``hub`` (a failed start fails the test), yield ``(hub, provider)``,
    then stop both. Use as ``yield from started(*proconnect_hub(...))``."""
    import pytest

    try:
        try:
            hub.start()
        except RuntimeError as error:
            pytest.fail(f"the hub did not start: {error}")
        yield hub, provider
    finally:
        hub.stop()
        provider.stop()


# --- driving a login as a browser would -----------------------------------------------------


def begin(session: requests.Session, hub: LocalHub, next_url: str = "") -> str:
    """``/hub/oauth_login``: the provider's authorize URL the hub redirects to."""
    query = f"?next={next_url}" if next_url else ""
    r = session.get(f"{hub.url}/hub/oauth_login{query}", allow_redirects=False, timeout=30)
    assert r.status_code == 302, (r.status_code, r.text[:500])
    return r.headers["Location"]


def with_params(url: str, **changes: str | None) -> str:
    """``url`` with query parameters changed (``None`` removes one)."""
    parts = urlparse(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return urlunparse(parts._replace(query=urlencode(query)))


def at_provider(session: requests.Session, url: str, email: str, hub: LocalHub) -> str:
    """Follow the provider's redirects from ``url``, logging in as ``email`` when asked;
    return the URL it sends the browser back to on the hub (the callback, with the code)."""
    for _ in range(20):
        r = session.get(url, allow_redirects=False, timeout=30)
        if r.status_code in (302, 303):
            url = urljoin(url, r.headers["Location"])
            if url.startswith(hub.url):
                return url
            continue
        assert r.status_code == 200 and 'name="email"' in r.text, (r.status_code, r.text[:800])
        r = session.post(url, data={"email": email, "password": "x"}, allow_redirects=False)
        assert r.status_code in (302, 303), (r.status_code, r.text[:800])
        url = urljoin(url, r.headers["Location"])
    raise AssertionError("too many redirects at the provider")


def finish(session: requests.Session, callback_url: str) -> requests.Response:
    """The hub's callback, redirects followed (the final page)."""
    return session.get(callback_url, timeout=60)


def log_in(hub: LocalHub, email: str, session: requests.Session | None = None):
    """A session logged in to the hub through the provider as ``email``; the last response."""
    session = session or requests.Session()
    callback = at_provider(session, begin(session, hub), email, hub)
    return session, finish(session, callback)


def provider_asks_login(session: requests.Session, url: str, hub: LocalHub) -> bool:
    """Whether the provider shows its login form for ``url`` (False: it sends the browser
    straight back to the hub, i.e. its session is still open)."""
    for _ in range(20):
        r = session.get(url, allow_redirects=False, timeout=30)
        if r.status_code not in (302, 303):
            return 'name="email"' in r.text
        url = urljoin(url, r.headers["Location"])
        if url.startswith(hub.url):
            return False
    raise AssertionError("too many redirects at the provider")


def log_out(session: requests.Session, hub: LocalHub) -> requests.Response:
    """``/hub/logout``, then the provider's logout page confirmed; the last response."""
    r = session.get(f"{hub.url}/hub/logout", allow_redirects=False, timeout=30)
    assert r.status_code == 302, (r.status_code, r.text[:500])
    end_session = r.headers["Location"]
    page = session.get(end_session, timeout=30)
    form = re.search(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', page.text, re.S)
    assert form, page.text[:800]
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(2)))
    fields["logout"] = "yes"
    return session.post(urljoin(end_session, form.group(1)), data=fields, timeout=30)


def parse_qs_value(url: str, name: str) -> str:
    """The value of the query parameter ``name`` of ``url`` (``""`` when absent)."""
    return (parse_qs(urlparse(url).query).get(name) or [""])[0]
