"""French for the hub's English messages, and user names that cannot impersonate."""

import re

import pytest

from hub.config.auth import USERNAME_PATTERN, skeleton
from hub.config.french import french, status_fr


@pytest.mark.parametrize(
    ("english", "words"),
    [
        ("Invalid username or password.", "mot de passe incorrect"),
        ("User zoé has not been authorized by an administrator yet.", "« zoé » n'a pas encore"),
        (
            "Action is not authorized with current scopes; requires any of [servers]",
            "réservé aux experts",
        ),
        (
            "Action is not authorized with current scopes; requires any of [admin:users]",
            "droit requis : admin:users",
        ),
        (
            "User ana already has the maximum of 3 named servers.  One must be deleted",
            "maximum de 3 démonstrateurs",
        ),
        ("Your information has been sent to the admin.", "transmise à l'administrateur"),
        ("Something went wrong!\nBe sure your username does not contain", "Inscription impossible"),
    ],
)
def test_known_messages_come_back_in_french(english, words):
    assert words in french(english)


def test_unknown_and_french_messages_are_left_as_they_are():
    assert french("Démonstrateur inconnu : « x ».") == "Démonstrateur inconnu : « x »."
    assert french(None) == "" and french("Something else") == "Something else"
    assert status_fr(404) == "Page introuvable" and status_fr("403") == "Accès refusé"
    assert status_fr("abc") == "Erreur" and status_fr(418) == "Erreur"


@pytest.mark.parametrize("name", ["admin", "agent.lyon", "a", "m-durand_2", "x" * 32])
def test_plain_names_are_valid(name):
    assert re.match(USERNAME_PATTERN, name)


@pytest.mark.parametrize("name", ["аdmin", "Admin", "-admin", "admin.", "x" * 33, "a b", "é"])
def test_other_names_are_not(name):
    assert not re.match(USERNAME_PATTERN, name)


@pytest.mark.parametrize("other", ["adm1n", "ad.min", "ad-min", "aDmin", "ａｄｍｉｎ", "adrnin"])
def test_look_alikes_share_a_skeleton(other):
    assert skeleton(other) == skeleton("admin")


def test_different_names_do_not():
    assert skeleton("alice") != skeleton("alicia") and skeleton("expert") != skeleton("export")
