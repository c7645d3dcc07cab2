"""The folder of a workspace: a small repository of the library's layout, under git.

``create_workspace`` makes ``<root>/<owner>/<server>/`` once: from an entry (its notebook,
its model package, the shared flat modules of ``models/`` it imports, its reference model
and card, its data), laid out like the library (``notebooks/``, ``models/``, ``datasets/``)
so that ``biblio run`` can run it, or empty (a README only). It is built in a temporary
sibling folder and moved into place at the end: nothing is ever half-written. Its first
commit is authored by the owner; later commits by each member (``hub.workspaces.extension``).
The repository's own identity (the committer) is the workspace's, never a person's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from hub.workspaces.names import WorkspaceError, check_server_name
from models.entries import ENTRY_ID_RE, require_entry, resolve_root

IDENTITY_DOMAIN = "biblio-ia.invalid"
BRANCH = "principale"
GITIGNORE = "\n".join(
    [".ipynb_checkpoints/", "__pycache__/", "*.pyc", ".jupyter/", ".local/", ".cache/", ""]
)
_SKIPPED = {"__pycache__", ".ipynb_checkpoints"}


def member_identity(user: str) -> str:
    """``git --author`` value of a hub user: ``name <name@biblio-ia.invalid>``."""
    return f"{user} <{user}@{IDENTITY_DOMAIN}>"


def workspace_dir(root: Path | str, owner: str, server: str) -> Path:
    """``<root>/<owner>/<server>``, refusing names that would leave ``root``."""
    check_server_name(server)
    if not owner or owner in {".", ".."} or "/" in owner or "\0" in owner:
        raise WorkspaceError(f"nom d'utilisateur inutilisable comme dossier : {owner!r}")
    return Path(root) / owner / server


def _files_under(folder: Path) -> list[Path]:
    return [
        p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not any(part in _SKIPPED for part in p.relative_to(folder).parts)
    ]


def entry_sources(entry_id: str, repo_root: Path | str | None = None) -> dict[str, Path]:
    """Files copied into a workspace made from ``entry_id``: relative path -> source."""
    paths = require_entry(entry_id, repo_root)
    root = resolve_root(repo_root)
    sources: dict[str, Path] = {f"notebooks/{entry_id}.ipynb": paths.notebook}
    models = root / "models"
    for src in sorted(models.glob("*.py")):  # the shared foundation, flat in models/
        sources[f"models/{src.name}"] = src
    for folder in (paths.package, paths.dataset_dir):
        if folder.is_dir():
            for src in _files_under(folder):
                sources[src.relative_to(root).as_posix()] = src
    for extra in (paths.artifact, paths.card):
        if extra.is_file():
            sources[extra.relative_to(root).as_posix()] = extra
    return sources


def readme(title: str, entry_id: str | None) -> str:
    origin = (
        f"Créé à partir de l'entrée « {entry_id} » de la bibliothèque : son carnet est "
        f"`notebooks/{entry_id}.ipynb`, son modèle `models/{entry_id}/`, ses données "
        f"`datasets/{entry_id}/`."
        if entry_id
        else "Créé vide."
    )
    return (
        f"# {title}\n\nEspace de travail commun de la Bibliothèque IA territoriale. {origin}\n\n"
        "Chaque membre enregistre son travail dans l'historique (onglet Git de JupyterLab) : "
        "chaque enregistrement porte le nom de son auteur.\n"
    )


def git(folder: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run ``git args`` in ``folder``; its output, or a French error."""
    full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})}
    # In docker mode the folder belongs to the container's user: git would refuse a folder of
    # another owner ("dubious ownership") unless told it is safe; only this one is.
    safe = f"safe.directory={Path(folder).resolve()}"
    done = subprocess.run(
        ["git", "-c", safe, *args],
        cwd=folder,
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise WorkspaceError(f"git {args[0]} a échoué : {done.stderr.strip() or done.stdout}")
    return done.stdout


def create_workspace(
    root: Path | str,
    owner: str,
    server: str,
    *,
    title: str = "",
    entry_id: str | None = None,
    repo_root: Path | str | None = None,
) -> bool:
    """Make the workspace's folder and its first commit; False if it already exists."""
    dest = workspace_dir(root, owner, server)
    if dest.exists():
        return False
    if entry_id is not None and not ENTRY_ID_RE.match(entry_id):
        raise WorkspaceError(f"Entrée inconnue : « {entry_id} ».")
    sources = entry_sources(entry_id, repo_root) if entry_id else {}
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{server}-", dir=dest.parent))
    try:
        for rel, src in sources.items():
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
        (tmp / "README.md").write_text(readme(title or server, entry_id), encoding="utf-8")
        (tmp / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
        git(tmp, "init", "--quiet", f"--initial-branch={BRANCH}")
        git(tmp, "config", "user.name", f"Espace {server}")
        git(tmp, "config", "user.email", f"{server}@{IDENTITY_DOMAIN}")
        git(tmp, "add", "--all")
        message = f"Création de l'espace « {title or server} »" + (
            f" à partir de l'entrée {entry_id}" if entry_id else ""
        )
        git(tmp, "commit", "--quiet", "--author", member_identity(owner), "-m", message)
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return True


def history(folder: Path | str) -> list[dict[str, str]]:
    """Commits of the workspace, newest first: author name, email, subject."""
    out = git(Path(folder), "log", "--format=%an%x1f%ae%x1f%cn%x1f%s")
    rows = []
    for line in out.splitlines():
        author, email, committer, subject = line.split("\x1f", 3)
        rows.append({"auteur": author, "courriel": email, "committer": committer, "sujet": subject})
    return rows


def export_bundle(folder: Path | str, dest: Path | str) -> Path:
    """The whole history as one git bundle file (``git clone <bundle>`` gives the repository)."""
    dest = Path(dest)
    git(Path(folder), "bundle", "create", str(dest.absolute()), "--all")
    return dest
