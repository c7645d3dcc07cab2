"""French for the messages JupyterHub and NativeAuthenticator write in English.

Their handlers hand English strings to the templates (login errors, sign-up results, error
pages). The templates pass them through ``french`` (a template variable, ``biblio_fr``): a
known message comes back in French, an unknown one unchanged. ``status_fr`` names the HTTP
statuses of the error page.
"""

from __future__ import annotations

import re
from collections.abc import Callable

STATUS = {
    400: "Requête invalide",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Méthode non autorisée",
    409: "Conflit",
    429: "Trop de requêtes",
    500: "Erreur interne du serveur",
    502: "Serveur indisponible",
    503: "Service indisponible",
}

SIGNUP_RULES = (
    "Inscription impossible. Le nom d'utilisateur doit compter de 1 à 32 caractères parmi "
    "les lettres minuscules a à z, les chiffres, le point, le tiret et le tiret bas, sans "
    "ressembler à un nom déjà utilisé ; le mot de passe doit être assez long et peu courant."
)

_Rule = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]


def _scopes(m: re.Match[str]) -> str:
    if "servers" in m.group(1):
        return (
            "Action non autorisée à votre niveau d'accès : le lancement des démonstrateurs "
            "est réservé aux experts. Demandez ce niveau d'accès à l'administrateur."
        )
    return f"Action non autorisée à votre niveau d'accès (droit requis : {m.group(1)})."


RULES: list[_Rule] = [
    (
        re.compile(r"Invalid username or password\.?"),
        "Nom d'utilisateur ou mot de passe incorrect.",
    ),
    (
        re.compile(r"User (.+) has not been authorized by an administrator yet\.?"),
        r"Le compte « \1 » n'a pas encore été validé par un administrateur.",
    ),
    (
        re.compile(r"Action is not authorized with current scopes; requires any of \[(.*)\]"),
        _scopes,
    ),
    (
        re.compile(r"User (.+) already has the maximum of (\d+) named servers\..*", re.S),
        r"Vous avez déjà le maximum de \2 démonstrateurs. Supprimez-en un depuis « Mes "
        r"démonstrateurs » avant d'en lancer un autre.",
    ),
    (re.compile(r"No such user: (.+)"), r"Utilisateur inconnu : « \1 »."),
    (re.compile(r"You failed the reCAPTCHA.*"), "Vérification anti-robot échouée : réessayez."),
    (
        re.compile(
            r"Something went wrong!\s*It appears that this username is already in use.*", re.S
        ),
        "Ce nom d'utilisateur est déjà pris : choisissez-en un autre.",
    ),
    (
        re.compile(r"Your password did not match the confirmation.*"),
        "Les deux mots de passe saisis diffèrent : réessayez.",
    ),
    (re.compile(r"Something went wrong!\s*Be sure your username.*", re.S), SIGNUP_RULES),
    (
        re.compile(r"The signup was successful!.*", re.S),
        "Inscription réussie : vous pouvez vous connecter.",
    ),
    (
        re.compile(r"Your information has been sent to the admin\.?"),
        "Votre demande est transmise à l'administrateur, qui validera votre accès et votre niveau.",
    ),
    (
        re.compile(r"Your current password was incorrect.*"),
        "Le mot de passe actuel est incorrect : réessayez.",
    ),
    (
        re.compile(r"Your password has been changed successfully!?"),
        "Votre mot de passe est changé.",
    ),
    (
        re.compile(r"The password for (.+) has been changed successfully"),
        r"Le mot de passe de « \1 » est changé.",
    ),
    (re.compile(r"Named servers are not enabled\.?"), "Les serveurs nommés ne sont pas activés."),
    (re.compile(r"Invalid URL"), "Adresse invalide."),
]


def french(message: object) -> str:
    """``message`` in French when it is one JupyterHub or NativeAuthenticator writes."""
    text = "" if message is None else str(message)
    for pattern, replacement in RULES:
        m = pattern.fullmatch(text.strip())
        if m:
            return replacement(m) if callable(replacement) else m.expand(replacement)
    return text


def status_fr(code: object) -> str:
    """The French name of an HTTP status (``404`` → ``Page introuvable``)."""
    try:
        return STATUS.get(int(code), "Erreur")
    except (TypeError, ValueError):
        return "Erreur"


class TemplateText:
    """The two functions above for the hub's templates (``c.JupyterHub.template_vars`` calls
    a callable value with the user, so they travel as attributes: ``biblio.fr(message)``)."""

    fr = staticmethod(french)
    status = staticmethod(status_fr)
