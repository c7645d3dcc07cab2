"""NativeAuthenticator's pages as biblio-ia serves them: French, lockout said, approval by POST.

- ``LoginHandler``: its errors in French, and a locked account is told so, with the time left,
  instead of reading like a wrong password.
- ``ToggleAuthorizationHandler`` and ``DiscardHandler``: approving, withdrawing or discarding
  an account changes state, so it takes a POST carrying the hub's XSRF token (JupyterHub
  checks it); the GET links NativeAuthenticator uses could be triggered by any page the admin
  visits. A GET now answers 405.

``BiblioAuthenticator.get_handlers`` puts these in place of NativeAuthenticator's own.
"""

from __future__ import annotations

import math
from datetime import datetime

from nativeauthenticator import handlers as native
from nativeauthenticator.orm import UserInfo
from tornado import web

from hub.config.french import french

POST_ONLY = (
    "Cette action se fait depuis la page « Autoriser des comptes », par son bouton "
    "(formulaire protégé) ; un lien ne suffit pas."
)


def lockout_message(authenticator, username: str) -> str | None:
    """The French lockout message when ``username`` is blocked after too many failures."""
    if not getattr(authenticator, "allowed_failed_logins", 0):
        return None
    name = authenticator.normalize_username(username)
    if not authenticator.is_blocked(name):
        return None
    attempts = authenticator.login_attempts.get(name) or {}
    waited = (datetime.now() - attempts.get("time", datetime.now())).total_seconds()
    left = max(1, math.ceil((authenticator.seconds_before_next_try - waited) / 60))
    total = max(1, round(authenticator.seconds_before_next_try / 60))
    return (
        f"Trop d'essais infructueux : la connexion au compte « {name} » est bloquée pendant "
        f"{total} minutes (encore {left} min). Réessayez plus tard ou demandez à "
        "l'administrateur de changer votre mot de passe."
    )


class LoginHandler(native.LoginHandler):
    """NativeAuthenticator's login, with French errors and an explicit lockout."""

    async def _render(self, login_error=None, username=None):
        if login_error:
            blocked = lockout_message(self.authenticator, username) if username else None
            login_error = blocked or french(login_error)
        return await super()._render(login_error=login_error, username=username)


class ToggleAuthorizationHandler(native.LocalBase):
    """POST ``/authorize/<name>``: approve or withdraw an account (XSRF-checked)."""

    @native.admin_users_scope
    async def get(self, slug):
        raise web.HTTPError(405, POST_ONLY)

    @native.admin_users_scope
    async def post(self, slug):
        UserInfo.change_authorization(self.db, slug)
        self.redirect(self.hub.base_url + "authorize#" + slug)


class DiscardHandler(native.LocalBase):
    """POST ``/discard/<name>``: drop a sign-up request that was never approved."""

    @native.admin_users_scope
    async def get(self, user_name):
        raise web.HTTPError(405, POST_ONLY)

    @native.admin_users_scope
    async def post(self, user_name):
        info = self.authenticator.get_user(user_name)
        if info is not None and not info.is_authorized:
            self.authenticator.delete_user(type("User", (), {"name": user_name}))
            if self.users.get(user_name) is not None:
                self.users.delete(user_name)
        self.redirect(self.hub.base_url + "authorize")


REPLACED = {
    r"/login": LoginHandler,
    r"/authorize/([^/]*)": ToggleAuthorizationHandler,
    r"/discard/([^/]*)": DiscardHandler,
}


def replace_handlers(handlers: list[tuple]) -> list[tuple]:
    """NativeAuthenticator's handler list with ours in place of the ones above."""
    return [(route, REPLACED.get(route, handler), *rest) for route, handler, *rest in handlers]
