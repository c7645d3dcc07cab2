"""Authentication: NativeAuthenticator (sign-up, admin approval) plus bootstrap accounts.

``BiblioAuthenticator`` is NativeAuthenticator with one addition run when the hub creates
it: accounts listed in ``bootstrap_accounts`` get a random password. The admin account
(``BIBLIO_ADMIN``) is created that way on first start, so that nobody can sign up as the
admin before the operator does; demo accounts (``BIBLIO_DEMO=1``) get a new password at each
start. Passwords are printed once on the hub's standard output and never stored in clear.
"""

from __future__ import annotations

import re
import secrets
import sys
import unicodedata

import bcrypt
from nativeauthenticator import NativeAuthenticator
from nativeauthenticator.orm import UserInfo
from traitlets import Bool, Dict, Unicode

PROCONNECT_PREFIX = "pc-"  # names of ProConnect accounts: never a native sign-up
PASSWORD_BYTES = 12  # token_urlsafe(12): 16 characters

USERNAME_PATTERN = r"^[a-z0-9](?:[a-z0-9._-]{0,30}[a-z0-9])?$"
"""User names: 1 to 32 of a–z, 0–9, ``.``, ``-``, ``_`` (letters and digits at both ends),
after NFKC normalisation and lower-casing (``docs/operations.md``)."""

# Characters a reader takes for one another in a user name (after NFKC and lower-casing).
_LOOK_ALIKE = [("rn", "m"), ("vv", "w"), ("0", "o"), ("1", "l"), ("i", "l"), ("5", "s")]


def skeleton(name: str) -> str:
    """What a user name looks like to a reader: look-alike characters folded, separators
    dropped. Two names with one skeleton (``admin``, ``adm1n``, ``ad.min``) are confusable."""
    text = re.sub(r"[._-]", "", unicodedata.normalize("NFKC", name).casefold())
    for seen, same in _LOOK_ALIKE:
        text = text.replace(seen, same)
    return text


def new_password() -> str:
    """A random password (never a default)."""
    return secrets.token_urlsafe(PASSWORD_BYTES)


def format_banner(created: dict[str, str], public_url: str) -> str:
    """The French text printed once with the new passwords."""
    lines = ["", "=" * 64, "biblio-ia : comptes créés pour ce démarrage", f"Adresse : {public_url}"]
    for name, password in sorted(created.items()):
        lines.append(f"  identifiant : {name:<14} mot de passe : {password}")
    lines += ["Ces mots de passe ne seront plus affichés.", "=" * 64, ""]
    return "\n".join(lines)


class BiblioAuthenticator(NativeAuthenticator):
    """NativeAuthenticator that provisions the admin (first start) and demo accounts."""

    bootstrap_accounts = Dict(
        help="name -> 'once' (created with a random password if missing) or 'always' "
        "(new random password at every start).",
    ).tag(config=True)
    public_url = Unicode("", help="URL shown with the printed passwords.").tag(config=True)
    print_passwords = Bool(True, help="Print new passwords on standard output.").tag(config=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        created = self.provision_accounts()
        if created and self.print_passwords:
            print(format_banner(created, self.public_url), file=sys.stdout, flush=True)

    def normalize_username(self, username: str) -> str:
        """NFKC then lower case: a full-width or composed name is the plain name it shows."""
        return super().normalize_username(unicodedata.normalize("NFKC", username or ""))

    def confusable_with(self, username: str) -> str | None:
        """An existing account whose name a reader would take for ``username``, if any."""
        wanted = skeleton(username)
        for (existing,) in self.db.query(UserInfo.username):
            if existing != username and skeleton(existing) == wanted:
                return existing
        return None

    def create_user(self, username, password, **kwargs):
        """Sign-up: refused (``None``) when the name is confusable with an existing one, or
        takes the ``pc-`` prefix kept for ProConnect accounts (``hub.config.proconnect``)."""
        name = self.normalize_username(username)
        if name.startswith(PROCONNECT_PREFIX) or self.confusable_with(name):
            return None
        return super().create_user(username, password, **kwargs)

    def get_handlers(self, app):
        """NativeAuthenticator's pages, with the project's login and POST-only approval."""
        from hub.config.native_handlers import replace_handlers

        return replace_handlers(super().get_handlers(app))

    def provision_accounts(self) -> dict[str, str]:
        """Create or refresh the bootstrap accounts; return ``{name: new password}``."""
        created: dict[str, str] = {}
        for raw_name, policy in self.bootstrap_accounts.items():
            name = self.normalize_username(raw_name)
            info = UserInfo.find(self.db, name)
            if info is not None and policy != "always":
                continue
            password = new_password()
            hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt())
            if info is None:
                self.db.add(UserInfo(username=name, password=hashed, is_authorized=True))
            else:
                info.password = hashed
                info.is_authorized = True
            created[name] = password
        self.db.commit()
        return created
