"""Log in with ProConnect: oauthenticator's ``GenericOAuthenticator`` plus what ProConnect requires.

``ProConnectAuthenticator`` reads the provider's discovery document (endpoints, JWKS) on the
first login, then for every login:

1. ``ProConnectLoginHandler`` (``hub.config.proconnect_handlers``) sends ``state``
   (oauthenticator's, kept in its signed cookie), a ``nonce`` kept in the same cookie, a PKCE
   S256 challenge, the scopes and an essential ``acr`` claim;
2. ``ProConnectCallbackHandler`` checks ``state`` (French messages), then the authenticator
   exchanges the code, verifies the ID token (signature with the provider's JWKS, issuer,
   audience, expiry, ``nonce``, ``acr`` at or above the minimum), reads the user info (JSON or
   a signed JWT, verified the same way) and refuses a ``sub`` that differs from the ID token's;
3. the tier: an agent of a collectivité joins the ``collectivites`` group (and leaves it when
   no longer one); others keep the public tier, or are refused (``BIBLIO_PROCONNECT_AUTRES``);
4. ``ProConnectLogoutHandler`` ends the hub's session, then ProConnect's through its
   end-session endpoint with ``id_token_hint``; ``/hub/proconnect/deconnexion`` checks the
   logout ``state`` on the way back and goes to the catalog.

``auth_state`` keeps only the ID token (for the logout), the claims biblio-ia uses and the
profile the catalog shows; no access or refresh token (ProConnect's last 60 s).
"""

from __future__ import annotations

import hmac
import json
import os
import time
from typing import Any

import jwt
from jupyterhub import orm
from oauthenticator.generic import GenericOAuthenticator
from oauthenticator.oauth2 import _deserialize_state
from tornado.httpclient import HTTPClientError
from traitlets import Unicode

from hub.config.proconnect import (
    acceptable_acr,
    display_profile,
    is_collectivite,
    normalise_siret,
    proconnect_username,
    read_siret_list,
)
from hub.config.proconnect_handlers import (
    AGAIN,
    ProConnectCallbackHandler,
    ProConnectLoggedOutHandler,
    ProConnectLoginHandler,
    ProConnectLogoutHandler,
    refusal,
)
from hub.config.roles import GROUP_COLLECTIVITES
from hub.config.settings import ACR_LEVELS, SettingsError

ALGORITHMS = ("RS256", "ES256", "HS256")  # the algorithms ProConnect documents
DISCOVERY_MAX_AGE = 3600
LEEWAY = 30  # seconds of clock difference tolerated on exp / iat


class ProConnectAuthenticator(GenericOAuthenticator):
    """GenericOAuthenticator configured from ProConnect's discovery document (module docstring)."""

    login_handler = ProConnectLoginHandler
    callback_handler = ProConnectCallbackHandler
    logout_handler = ProConnectLogoutHandler

    issuer = Unicode(help="OpenID issuer (its discovery document is read).").tag(config=True)
    acr_min = Unicode("eidas1", help="Least acr level accepted.").tag(config=True)
    collectivite_rule = Unicode("liste", help="liste or categorie.").tag(config=True)
    collectivites_file = Unicode(help="Allow-list file of collectivités' SIRETs.").tag(config=True)
    category_claim = Unicode("categorie_juridique", help="Legal category claim.").tag(config=True)
    others = Unicode("public", help="Agents of other organisations: public or refus.").tag(
        config=True
    )
    after_logout_url = Unicode(help="Where a logged-out user lands (the catalog).").tag(config=True)
    post_logout_redirect_url = Unicode(
        help="post_logout_redirect_uri registered with ProConnect (guessed when empty)."
    ).tag(config=True)

    _discovery: dict[str, Any] | None = None
    _discovered_at = 0.0
    _jwks: jwt.PyJWKSet | None = None
    _sirets: tuple[float, frozenset[str]] | None = None

    def get_handlers(self, app):
        return super().get_handlers(app) + [
            (r"/proconnect/deconnexion", ProConnectLoggedOutHandler)
        ]

    def get_post_logout_url(self, handler) -> str:
        if self.post_logout_redirect_url:
            return self.post_logout_redirect_url
        return self.get_callback_url(handler).replace("oauth_callback", "proconnect/deconnexion")

    # --- the provider's documents ---------------------------------------------------------

    async def _get_json(self, url: str, label: str) -> dict:
        try:
            return await self.httpfetch(
                url,
                label=label,
                method="GET",
                headers={"Accept": "application/json"},
                validate_cert=self.validate_server_cert,
            )
        except (HTTPClientError, OSError, ValueError) as error:
            self.log.error("ProConnect : %s impossible (%s) : %s", label, url, error)
            raise refusal(
                503,
                "ProConnect ne répond pas pour le moment : réessayez dans quelques minutes.",
            ) from None

    async def discover(self) -> dict[str, Any]:
        """The discovery document (read again after an hour); sets the endpoints."""
        fresh = time.monotonic() - self._discovered_at < DISCOVERY_MAX_AGE
        if self._discovery is not None and fresh:
            return self._discovery
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        doc = await self._get_json(url, "lecture du document de découverte")
        if str(doc.get("issuer", "")).rstrip("/") != self.issuer.rstrip("/"):
            self.log.error("ProConnect : issuer %r au lieu de %r", doc.get("issuer"), self.issuer)
            raise refusal(503, "Le document de découverte de ProConnect ne correspond pas.")
        self.authorize_url = doc["authorization_endpoint"]
        self.token_url = doc["token_endpoint"]
        self.userdata_url = doc["userinfo_endpoint"]
        self._discovery, self._discovered_at, self._jwks = doc, time.monotonic(), None
        return doc

    async def _key_for(self, token: str) -> tuple[Any, str]:
        """The key that signed ``token`` (JWKS, read again once for an unknown key id)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise refusal(403, "Jeton de ProConnect illisible." + AGAIN) from None
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise refusal(403, f"Jeton de ProConnect signé avec « {alg} », refusé." + AGAIN)
        if alg == "HS256":
            return self.client_secret.encode(), alg
        kid = header.get("kid")
        for refresh in (False, True):
            if self._jwks is None or refresh:
                doc = await self.discover()
                keys = await self._get_json(doc["jwks_uri"], "lecture des clés (JWKS)")
                try:
                    self._jwks = jwt.PyJWKSet.from_dict(keys)
                except jwt.PyJWTError as error:
                    self.log.error("ProConnect : JWKS inutilisable : %s", error)
                    raise refusal(503, "Les clés de ProConnect sont illisibles." + AGAIN) from None
            found = [k for k in self._jwks.keys if k.key_id == kid] if kid else self._jwks.keys
            if len(found) == 1:
                return found[0].key, alg
        raise refusal(403, "Jeton de ProConnect signé par une clé inconnue." + AGAIN)

    async def verify_jwt(self, token: str, what: str, **options: Any) -> dict[str, Any]:
        """The claims of ``token`` once its signature, issuer, audience and dates are checked."""
        key, alg = await self._key_for(token)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self.client_id,
                issuer=self.issuer.rstrip("/"),
                leeway=LEEWAY,
                options={"require": ["iss", "aud", "sub"], **options},
            )
        except jwt.InvalidAudienceError:
            raise refusal(
                403,
                f"Connexion refusée : {what} de ProConnect n'est pas destiné à ce service "
                "(audience différente)." + AGAIN,
            ) from None
        except jwt.ExpiredSignatureError:
            raise refusal(
                403, f"Connexion refusée : {what} de ProConnect a expiré." + AGAIN
            ) from None
        except jwt.InvalidIssuerError:
            raise refusal(
                403, f"Connexion refusée : {what} ne vient pas de ProConnect (émetteur)." + AGAIN
            ) from None
        except jwt.PyJWTError as error:
            raise refusal(403, f"Connexion refusée : {what} invalide ({error})." + AGAIN) from None
        if claims.get("azp") not in (None, self.client_id):
            raise refusal(403, f"Connexion refusée : {what} émis pour un autre service." + AGAIN)
        return claims

    async def verify_id_token(self, id_token: str | None, nonce: str | None) -> dict[str, Any]:
        """The ID token's claims: signature, issuer, audience, expiry, nonce and acr checked."""
        if not id_token:
            raise refusal(403, "Connexion refusée : ProConnect n'a pas envoyé de jeton d'identité.")
        claims = await self.verify_jwt(
            id_token, "le jeton d'identité", require=["iss", "aud", "sub", "exp", "iat"]
        )
        if not nonce or not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
            raise refusal(
                403,
                "Connexion refusée : le nonce du jeton d'identité ne correspond pas à la "
                "connexion en cours (réponse rejouée ou falsifiée)." + AGAIN,
            )
        acr = claims.get("acr")
        if acr not in acceptable_acr(self.acr_min):
            shown = acr if acr in ACR_LEVELS else "inconnu"
            raise refusal(
                403,
                f"Connexion refusée : niveau d'authentification ProConnect « {shown} » "
                f"insuffisant, « {self.acr_min} » au moins est demandé (par exemple avec une "
                "double authentification).",
            )
        return claims

    # --- oauthenticator's steps -----------------------------------------------------------

    async def authenticate(self, handler, data=None, **kwargs):
        await self.discover()
        params = self.build_access_tokens_request_params(handler, data)
        try:
            token_info = await self.get_token_info(handler, params)
        except HTTPClientError as error:
            raise refusal(403, self._token_error(error)) from None
        state = _deserialize_state(handler.get_state_cookie())
        claims = await self.verify_id_token(token_info.get("id_token"), state.get("nonce"))
        token_info = dict(token_info, biblio_id_claims=claims)
        return await self._token_to_auth_model(token_info)

    @staticmethod
    def _token_error(error: HTTPClientError) -> str:
        try:
            body = json.loads(error.response.body) if error.response else {}
        except ValueError:
            body = {}
        if body.get("error") == "invalid_grant":
            return (
                "Connexion refusée : le code d'autorisation de ProConnect a expiré ou a déjà "
                "servi (il vaut 30 secondes)." + AGAIN
            )
        code = body.get("error", error.code)
        return f"Connexion refusée : ProConnect n'a pas échangé le code ({code})."

    async def token_to_user(self, token_info):
        """The user info, as JSON or as a signed JWT (verified), for the ID token's ``sub``."""
        headers = self.build_userdata_request_headers(
            token_info["access_token"], token_info.get("token_type", "Bearer")
        )
        headers["Accept"] = "application/jwt, application/json"
        try:
            response = await self.httpfetch(
                self.userdata_url,
                label="lecture des informations de l'agent",
                parse_json=False,
                method="GET",
                headers=headers,
                validate_cert=self.validate_server_cert,
            )
        except HTTPClientError as error:
            raise refusal(
                403, f"ProConnect n'a pas donné les informations de l'agent ({error.code})."
            ) from None
        body = response.body.decode("utf-8", "replace").strip()
        signed = "application/jwt" in response.headers.get("Content-Type", "")
        self.log.info(
            "ProConnect : informations de l'agent reçues en %s", "JWT" if signed else "JSON"
        )
        if signed or not body.startswith("{"):
            info = await self.verify_jwt(body, "la réponse userinfo")
        else:
            try:
                info = json.loads(body)
            except ValueError:
                raise refusal(403, "Réponse userinfo de ProConnect illisible." + AGAIN) from None
        if info.get("sub") != token_info["biblio_id_claims"]["sub"]:
            raise refusal(
                403, "Connexion refusée : informations d'un autre agent que celui connecté."
            )
        return info

    def user_info_to_username(self, user_info):
        return proconnect_username(self.issuer, str(user_info.get("sub") or ""))

    def build_auth_state_dict(self, token_info, user_info):
        claims = token_info.get("biblio_id_claims", {})
        keep = ("sub", "uid", "idp_id", "email", "organization_label", self.category_claim)
        facts = {k: user_info.get(k) for k in keep if user_info.get(k) is not None}
        facts.update(siret=normalise_siret(user_info.get("siret")), acr=claims.get("acr"))
        return {
            "id_token": token_info.get("id_token"),
            "proconnect": facts,
            "profil": display_profile(user_info),
        }

    async def update_auth_model(self, auth_model):
        state = auth_model["auth_state"]
        member = is_collectivite(
            state["proconnect"],
            rule=self.collectivite_rule,
            sirets=self.collectivite_sirets(),
            category_claim=self.category_claim,
        )
        state["collectivite"] = member
        if not member and self.others == "refus":
            siret = state["proconnect"].get("siret") or "inconnu"
            raise refusal(
                403,
                f"Accès réservé aux agents des collectivités : votre organisation (SIRET {siret}) "
                "n'en fait pas partie pour ce service. Si c'est une erreur, écrivez à "
                "l'administrateur de la bibliothèque.",
            )
        return auth_model

    async def refresh_user(self, user, handler=None, **kwargs):
        """No refresh: ProConnect's tokens last 60 s; the hub's session is its own."""
        return True

    def collectivite_sirets(self) -> frozenset[str]:
        """The allow-list, read again when the file changes (rule ``liste``)."""
        if self.collectivite_rule != "liste" or not self.collectivites_file:
            return frozenset()
        try:
            stamp = os.stat(self.collectivites_file).st_mtime_ns
        except OSError:
            self.log.warning(
                "ProConnect : liste des collectivités absente : %s", self.collectivites_file
            )
            return frozenset()
        if self._sirets is None or self._sirets[0] != stamp:
            try:
                self._sirets = (stamp, read_siret_list(self.collectivites_file))
            except SettingsError as error:
                self.log.error("ProConnect : %s", error)
                raise refusal(
                    503, "Liste des collectivités illisible : prévenez l'administrateur."
                ) from None
        return self._sirets[1]

    async def apply_tier(self, db, user) -> None:
        """Join or leave the ``collectivites`` group as the claims say (ProConnect accounts)."""
        state = await user.get_auth_state() or {}
        group = orm.Group.find(db, GROUP_COLLECTIVITES)
        if group is None:
            return
        groups = user.orm_user.groups
        if state.get("collectivite") and group not in groups:
            groups.append(group)
        elif not state.get("collectivite") and group in groups:
            groups.remove(group)
        else:
            return
        db.commit()
