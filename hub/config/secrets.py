"""Secrets of the hub, generated on first start and kept under the state directory.

Each secret is a random hex string in its own file, created with mode 0600 through a
temporary file and ``os.replace`` (never half-written). Nothing here has a default value:
a missing file is generated, an existing one is reused so that sessions survive a restart.
"""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from hub.config.settings import SettingsError
from models.fsutil import write_text

COOKIE_SECRET_NAME = "jupyterhub_cookie_secret"
PROXY_TOKEN_NAME = "proxy_auth_token"
CRYPT_KEY_NAME = "crypt_key"
SECRETS_DIRNAME = "secrets"


@dataclass(frozen=True)
class HubSecrets:
    """Paths and values of the hub's secrets."""

    cookie_secret_file: Path
    proxy_auth_token: str
    crypt_key: str


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed and make it mode 0700."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def _write_private(path: Path, text: str) -> None:
    write_text(path, text + "\n", encoding="ascii", mode=0o600)


def ensure_secret(path: Path, nbytes: int = 32) -> str:
    """Return the hex secret stored in ``path``, generating it (mode 0600) if missing.

    A file readable by group or others is tightened to 0600; a file that does not hold a
    hex secret of at least ``nbytes`` bytes is refused (it was not written by us).
    """
    path = Path(path)
    if not path.exists():
        ensure_private_dir(path.parent)
        _write_private(path, secrets.token_hex(nbytes))
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        os.chmod(path, 0o600)
    value = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raw = b""
    if len(raw) < nbytes:
        raise SettingsError(
            f"Le fichier secret {path} est illisible ou trop court : supprimez-le pour qu'un "
            "nouveau secret soit généré au prochain démarrage."
        )
    return value


def hub_secrets(state_dir: Path) -> HubSecrets:
    """Generate (first start) or read every secret of the hub under ``state_dir/secrets``."""
    ensure_private_dir(Path(state_dir))
    folder = ensure_private_dir(Path(state_dir) / SECRETS_DIRNAME)
    cookie = folder / COOKIE_SECRET_NAME
    ensure_secret(cookie)
    return HubSecrets(
        cookie_secret_file=cookie,
        proxy_auth_token=ensure_secret(folder / PROXY_TOKEN_NAME),
        crypt_key=ensure_secret(folder / CRYPT_KEY_NAME),
    )
