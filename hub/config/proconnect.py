"""ProConnect's rules as biblio-ia applies them: names, tiers, acr levels, credentials.

Plain functions, no I/O except reading the operator's files; the authenticator that uses
them is ``hub.config.proconnect_auth`` (docs/proconnect.md explains the choices), and
``configure_proconnect(c, settings)`` sets its traits (called by ``hub.config.configure``):

- ``proconnect_username``: ``pc-`` + 12 hex characters of a hash of the issuer and the
  ``sub`` claim (ProConnect's stable identifier of an agent). Native sign-ups may not use the
  ``pc-`` prefix, so a ProConnect account never collides with a native one.
- ``is_collectivite``: rule ``liste`` (the SIRET is in the operator's allow-list file) or
  ``categorie`` (a legal-category claim 72xx, or an EPCI with its own tax: 7343, 7344, 7346,
  7348).
- ``acceptable_acr`` / ``acr_request``: every documented acr level at or above the minimum,
  asked for as an essential ``acr`` claim of the ID token.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any

from hub.config.auth import PROCONNECT_PREFIX as USERNAME_PREFIX
from hub.config.auth import USERNAME_PATTERN
from hub.config.settings import ACR_LEVELS, Settings, SettingsError

#: What each user may read of themself in ProConnect mode, and the catalog with their token:
#: the profile kept in auth_state (name, organisation), for the catalog's header.
PROFILE_SCOPES = ["admin:auth_state!user"]
log = logging.getLogger("JupyterHub")
_SIRET = re.compile(r"^[0-9]{14}$")
#: Legal categories (INSEE, level III) of EPCIs with their own tax: communauté urbaine,
#: métropole, communauté de communes, communauté d'agglomération. Every 72xx is a
#: collectivité territoriale (commune, département, région, collectivité à statut particulier).
EPCI_CATEGORIES = frozenset({"7343", "7344", "7346", "7348"})


def proconnect_username(issuer: str, sub: str) -> str:
    """The hub name of the agent ``sub`` of ``issuer``: stable, opaque, ``pc-`` + 12 hex."""
    if not sub:
        raise ValueError("claim sub absent")
    digest = hashlib.sha256(f"{issuer.rstrip('/')}|{sub}".encode()).hexdigest()
    return USERNAME_PREFIX + digest[:12]


def normalise_siret(value: object) -> str:
    """A SIRET as 14 digits (spaces dropped), or ``""`` when it is not one."""
    text = re.sub(r"\s", "", str(value or ""))
    return text if _SIRET.match(text) else ""


def read_siret_list(path: Path) -> frozenset[str]:
    """The SIRETs of the allow-list file (one a line, ``#`` comments, spaces ignored).

    A line that is not a SIRET raises ``SettingsError`` naming the line (French).
    """
    sirets = set()
    text = Path(path).read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        siret = normalise_siret(content)
        if not siret:
            raise SettingsError(
                f"{path}, ligne {number} : « {content} » n'est pas un SIRET (14 chiffres)."
            )
        sirets.add(siret)
    return frozenset(sirets)


def is_collectivite_category(category: object) -> bool:
    """A legal category of a collectivité territoriale (72xx) or of an EPCI à fiscalité propre."""
    code = re.sub(r"\D", "", str(category or ""))
    return len(code) == 4 and (code.startswith("72") or code in EPCI_CATEGORIES)


def is_collectivite(
    claims: dict, *, rule: str, sirets: frozenset[str], category_claim: str = ""
) -> bool:
    """Whether the agent described by ``claims`` works for a collectivité under ``rule``."""
    if rule == "categorie":
        return is_collectivite_category(claims.get(category_claim))
    return normalise_siret(claims.get("siret")) in sirets


def acceptable_acr(minimum: str) -> list[str]:
    """Every documented acr level at or above ``minimum``, weakest first."""
    return list(ACR_LEVELS[ACR_LEVELS.index(minimum) :])


def acr_request(minimum: str) -> str:
    """The ``claims`` parameter asking for an essential acr at or above ``minimum``."""
    wanted = {"essential": True, "values": acceptable_acr(minimum)}
    return json.dumps({"id_token": {"acr": wanted}}, separators=(",", ":"))


def display_profile(userinfo: dict) -> dict[str, str]:
    """Name and organisation shown in the catalog's header (French labels)."""
    name = " ".join(
        part.strip()
        for part in (str(userinfo.get("given_name") or ""), str(userinfo.get("usual_name") or ""))
        if part.strip()
    )
    siret = normalise_siret(userinfo.get("siret"))
    organisation = str(userinfo.get("organization_label") or "").strip()
    if not organisation and siret:
        organisation = f"SIRET {siret}"
    return {
        "nom": name or str(userinfo.get("email") or ""),
        "organisation": organisation,
        "courriel": str(userinfo.get("email") or ""),
    }


def _read_credential(value: str, path: Path | None, variable: str) -> str:
    if value:
        return value.strip()
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except OSError as error:
        raise SettingsError(
            f"{variable}_FILE : le fichier {path} est illisible ({error.strerror})."
        ) from None
    if not text:
        raise SettingsError(f"{variable}_FILE : le fichier {path} est vide.")
    return text


def client_credentials(s: Settings) -> tuple[str, str]:
    """``(client_id, client_secret)`` from the variables or their ``*_FILE`` files."""
    return (
        _read_credential(
            s.proconnect_client_id, s.proconnect_client_id_file, "BIBLIO_PROCONNECT_CLIENT_ID"
        ),
        _read_credential(
            s.proconnect_client_secret,
            s.proconnect_client_secret_file,
            "BIBLIO_PROCONNECT_CLIENT_SECRET",
        ),
    )


def configure_proconnect(c: Any, s: Settings) -> None:
    """ProConnect through GenericOAuthenticator (hub.config.proconnect_auth, docs/proconnect.md).

    Everyone ProConnect authenticates gets in (``allow_all``); the tier comes from the claims.
    ``auth_state`` (encrypted with the hub's generated crypt key) keeps the ID token for the
    logout and the profile the catalog shows; each user may read their own.
    """
    from hub.catalog.config import catalog_url

    client_id, client_secret = client_credentials(s)
    c.JupyterHub.authenticator_class = "hub.config.proconnect_auth.ProConnectAuthenticator"
    c.Authenticator.allow_all = True
    c.Authenticator.username_pattern = USERNAME_PATTERN
    c.Authenticator.enable_auth_state = True
    c.GenericOAuthenticator.login_service = "ProConnect"
    c.GenericOAuthenticator.client_id = client_id
    c.GenericOAuthenticator.client_secret = client_secret
    c.GenericOAuthenticator.scope = list(s.proconnect_scopes)
    c.GenericOAuthenticator.enable_pkce = s.proconnect_pkce
    c.GenericOAuthenticator.basic_auth = False  # client_secret_post, as ProConnect documents
    c.GenericOAuthenticator.custom_403_message = (
        "Connexion refusée : votre compte ProConnect n'a pas accès à ce service."
    )
    c.ProConnectAuthenticator.issuer = s.proconnect_issuer
    c.ProConnectAuthenticator.acr_min = s.proconnect_acr_min
    c.ProConnectAuthenticator.collectivite_rule = s.proconnect_rule
    c.ProConnectAuthenticator.collectivites_file = str(s.proconnect_collectivites)
    c.ProConnectAuthenticator.category_claim = s.proconnect_category_claim
    c.ProConnectAuthenticator.others = s.proconnect_others
    c.ProConnectAuthenticator.after_logout_url = catalog_url(s)
    if not s.admin.startswith("pc-"):
        log.warning(
            "biblio-ia : BIBLIO_ADMIN=%s n'est pas un compte ProConnect (pc-…) : connectez-vous "
            "une fois, lisez votre identifiant dans l'en-tête du catalogue et donnez-le à "
            "BIBLIO_ADMIN (docs/proconnect.md).",
            s.admin,
        )
    if s.proconnect_rule == "liste" and not s.proconnect_collectivites.exists():
        log.warning(
            "biblio-ia : liste des collectivités %s absente : aucun agent n'aura le niveau "
            "restreint automatiquement (docs/proconnect.md).",
            s.proconnect_collectivites,
        )
