"""ProConnect's pages on the hub: login redirect, callback, logout, return from the logout.

- ``ProConnectLoginHandler`` (``/hub/oauth_login``): oauthenticator's redirect (``state`` in its
  signed cookie, PKCE) plus a ``nonce`` kept in the same cookie and the essential acr request;
- ``ProConnectCallbackHandler`` (``/hub/oauth_callback``): oauthenticator's checks with French
  refusals, then the tier from the claims (``ProConnectAuthenticator.apply_tier``);
- ``ProConnectLogoutHandler`` (``/hub/logout``): the hub's session, then ProConnect's through its
  end-session endpoint with ``id_token_hint`` and a ``state`` kept in a signed cookie;
- ``ProConnectLoggedOutHandler`` (``/hub/proconnect/deconnexion``): back from that logout, the
  ``state`` checked, then the catalog.

``refusal`` builds the French error pages every refusal of the login shows.
"""

from __future__ import annotations

import hmac
import secrets

from jupyterhub.handlers import BaseHandler
from oauthenticator.oauth2 import (
    OAuthCallbackHandler,
    OAuthLoginHandler,
    OAuthLogoutHandler,
    _deserialize_state,
    _serialize_state,
)
from tornado import web
from tornado.httputil import url_concat

from hub.config.proconnect import acr_request

LOGOUT_COOKIE = "biblio-proconnect-logout"
AGAIN = " Recommencez depuis la page de connexion."
MESSAGES = {
    "OAuth state missing from cookies": "La connexion ProConnect a expiré ou a été commencée "
    "dans un autre navigateur." + AGAIN,
    "OAuth state missing from URL": "Réponse de ProConnect incomplète (paramètre state absent)."
    + AGAIN,
    "OAuth state mismatch": "Réponse de ProConnect refusée : le paramètre state ne correspond "
    "pas à la connexion en cours (réponse rejouée ou falsifiée)." + AGAIN,
    "OAuth callback made without a code": "Réponse de ProConnect sans code d'autorisation." + AGAIN,
    "Missing code_verifier": "La connexion ProConnect a expiré (vérificateur PKCE absent)." + AGAIN,
}


def refusal(status: int, message: str) -> web.HTTPError:
    """An HTTP error whose French ``message`` the hub's error page shows as it is."""
    error = web.HTTPError(status, message)  # tornado doubles any % itself
    error.jupyterhub_message = message
    return error


def french_oauth_error(error: web.HTTPError) -> web.HTTPError:
    """oauthenticator's English refusal of a callback, in French."""
    text = error.log_message or ""
    if text.startswith("OAuth error: "):
        detail = text.removeprefix("OAuth error: ")
        return refusal(error.status_code, f"ProConnect a interrompu la connexion : {detail}.")
    return refusal(error.status_code, MESSAGES.get(text, "Connexion ProConnect refusée." + AGAIN))


class ProConnectLoginHandler(OAuthLoginHandler):
    """``/hub/oauth_login``: oauthenticator's redirect plus ``nonce`` and the acr request."""

    _nonce = ""

    async def get(self):
        await self.authenticator.discover()
        super().get()

    def set_state_cookie(self, state_cookie_value):
        self._nonce = secrets.token_urlsafe(32)
        state = _deserialize_state(state_cookie_value)
        state["nonce"] = self._nonce
        super().set_state_cookie(_serialize_state(state))

    def authorize_redirect(self, *args, extra_params=None, **kwargs):
        extra = dict(extra_params or {})
        extra["nonce"] = self._nonce
        extra["claims"] = acr_request(self.authenticator.acr_min)
        return super().authorize_redirect(*args, extra_params=extra, **kwargs)


class ProConnectCallbackHandler(OAuthCallbackHandler):
    """``/hub/oauth_callback``: French refusals, then the tier from the claims."""

    async def get(self):
        await self.authenticator.discover()
        try:
            self.check_arguments()
        except web.HTTPError as error:
            raise french_oauth_error(error) from None
        user = await self.login_user()
        if user is None:
            raise refusal(403, self.authenticator.custom_403_message)
        await self.authenticator.apply_tier(self.db, user)
        self.redirect(self.get_next_url(user))


class ProConnectLogoutHandler(OAuthLogoutHandler):
    """``/hub/logout``: the hub's session, then ProConnect's (end-session with id_token_hint)."""

    _id_token = None

    async def get(self):
        user = self.current_user
        if user is not None:
            state = await user.get_auth_state() or {}
            self._id_token = state.get("id_token")
        await super().get()

    async def render_logout_page(self):
        auth = self.authenticator
        end_session = ""
        if self._id_token:
            try:
                end_session = (await auth.discover()).get("end_session_endpoint", "")
            except web.HTTPError:
                end_session = ""
        if not end_session:
            self.redirect(auth.after_logout_url or self.settings["login_url"])
            return
        state = secrets.token_urlsafe(32)
        self._set_cookie(LOGOUT_COOKIE, state, expires_days=1, httponly=True)
        self.redirect(
            url_concat(
                end_session,
                {
                    "id_token_hint": self._id_token,
                    "state": state,
                    "post_logout_redirect_uri": auth.get_post_logout_url(self),
                },
            )
        )


class ProConnectLoggedOutHandler(BaseHandler):
    """``/hub/proconnect/deconnexion``: back from ProConnect's logout, ``state`` checked."""

    def get(self):
        expected = (self.get_secure_cookie(LOGOUT_COOKIE) or b"").decode("ascii", "replace")
        self.clear_cookie(LOGOUT_COOKIE, path=self.hub.base_url)
        given = self.get_argument("state", "")
        if not expected or not hmac.compare_digest(expected, given):
            raise refusal(
                400,
                "Retour de déconnexion ProConnect inattendu (paramètre state différent) : "
                "votre session sur le hub est bien fermée.",
            )
        self.redirect(self.authenticator.after_logout_url or self.settings["login_url"])
