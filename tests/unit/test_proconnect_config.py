"""ProConnect mode: settings, configuration on a bare Config, rules of hub.config.proconnect."""

import json

import pytest
from traitlets.config import Config

from hub.config import configure as hubconfig
from hub.config.auth import BiblioAuthenticator
from hub.config.proconnect import (
    acceptable_acr,
    acr_request,
    client_credentials,
    display_profile,
    is_collectivite,
    is_collectivite_category,
    normalise_siret,
    proconnect_username,
    read_siret_list,
)
from hub.config.proconnect_handlers import french_oauth_error, refusal
from hub.config.settings import Settings, SettingsError

ISSUER = "https://fca.integ01.dev-agentconnect.fr/api/v2"


def _env(tmp_path, **more):
    return {
        "BIBLIO_STATE_DIR": str(tmp_path / "state"),
        "BIBLIO_AUTH": "proconnect",
        "BIBLIO_PROCONNECT_CLIENT_ID": "client-id",
        "BIBLIO_PROCONNECT_CLIENT_SECRET": "secret-value",
        **more,
    }


def test_native_stays_the_default(tmp_path):
    c = Config()
    s = hubconfig.configure(c, {"BIBLIO_STATE_DIR": str(tmp_path / "state")})
    assert s.auth == "native"
    assert c.JupyterHub.authenticator_class == "hub.config.auth.BiblioAuthenticator"
    assert "ProConnectAuthenticator" not in c
    catalog = next(x for x in c.JupyterHub.services if x["name"] == "catalog")
    assert not any("auth_state" in x for x in catalog["oauth_client_allowed_scopes"])


@pytest.mark.parametrize(
    ("env", "issuer"),
    [
        ({}, ISSUER),
        ({"BIBLIO_PROCONNECT_ENV": "production"}, "https://auth.agentconnect.gouv.fr/api/v2"),
        ({"BIBLIO_PROCONNECT_ISSUER": "http://127.0.0.1:5555/"}, "http://127.0.0.1:5555"),
    ],
)
def test_environment_chooses_the_documented_domain(tmp_path, env, issuer):
    assert Settings.from_env(_env(tmp_path, **env)).proconnect_issuer == issuer


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"BIBLIO_PROCONNECT_CLIENT_ID": ""}, "BIBLIO_PROCONNECT_CLIENT_ID"),
        ({"BIBLIO_PROCONNECT_CLIENT_SECRET": ""}, "BIBLIO_PROCONNECT_CLIENT_SECRET"),
        ({"BIBLIO_PROCONNECT_CLIENT_SECRET_FILE": "/s"}, "BIBLIO_PROCONNECT_CLIENT_SECRET"),
        ({"BIBLIO_PROCONNECT_ISSUER": "http://proconnect.exemple.fr"}, "https://"),
        ({"BIBLIO_PROCONNECT_ENV": "recette"}, "integration, production"),
        ({"BIBLIO_PROCONNECT_ACR_MIN": "eidas9"}, "eidas1-mfa"),
        ({"BIBLIO_PROCONNECT_SCOPES": "email siret"}, "openid"),
        ({"BIBLIO_PROCONNECT_AUTRES": "oui"}, "public, refus"),
    ],
)
def test_bad_settings_are_refused_in_french(tmp_path, env, named):
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(_env(tmp_path, **env))


def test_credentials_from_files_never_defaulted(tmp_path):
    (tmp_path / "id").write_text("from-file\n")
    (tmp_path / "secret").write_text("  s3cret  \n")
    s = Settings.from_env(
        _env(
            tmp_path,
            BIBLIO_PROCONNECT_CLIENT_ID="",
            BIBLIO_PROCONNECT_CLIENT_ID_FILE=str(tmp_path / "id"),
            BIBLIO_PROCONNECT_CLIENT_SECRET="",
            BIBLIO_PROCONNECT_CLIENT_SECRET_FILE=str(tmp_path / "secret"),
        )
    )
    assert client_credentials(s) == ("from-file", "s3cret")
    (tmp_path / "secret").write_text("\n")
    with pytest.raises(SettingsError, match="vide"):
        client_credentials(s)
    (tmp_path / "secret").unlink()
    with pytest.raises(SettingsError, match="illisible"):
        client_credentials(s)


def test_configure_sets_generic_oauthenticator_traits(tmp_path):
    c = Config()
    s = hubconfig.configure(c, _env(tmp_path, BIBLIO_PROCONNECT_ACR_MIN="eidas2"))
    assert c.JupyterHub.authenticator_class == "hub.config.proconnect_auth.ProConnectAuthenticator"
    g = c.GenericOAuthenticator
    assert (g.client_id, g.client_secret, g.login_service) == (
        "client-id",
        "secret-value",
        "ProConnect",
    )
    assert g.enable_pkce is True and g.basic_auth is False
    assert g.scope[0] == "openid" and {"siret", "usual_name", "idp_id", "uid"} <= set(g.scope)
    p = c.ProConnectAuthenticator
    assert p.issuer == ISSUER and p.acr_min == "eidas2" and p.others == "public"
    assert p.collectivites_file == str(s.state_dir / "proconnect" / "collectivites.txt")
    assert p.after_logout_url.endswith("/services/catalog/")
    assert c.Authenticator.enable_auth_state is True and c.Authenticator.allow_all is True
    assert len(c.CryptKeeper["keys"][0]) == 32  # generated with the other secrets, not a default
    user_role = next(r for r in c.JupyterHub.load_roles if r["name"] == "user")
    assert "admin:auth_state!user" in user_role["scopes"]
    assert not any("servers" in x for x in user_role["scopes"])
    catalog = next(x for x in c.JupyterHub.services if x["name"] == "catalog")
    assert "admin:auth_state!user" in catalog["oauth_client_allowed_scopes"]


def test_usernames_are_stable_opaque_and_never_native(tmp_path):
    name = proconnect_username(ISSUER, "a1b2c3")
    assert name == proconnect_username(ISSUER + "/", "a1b2c3")
    assert name.startswith("pc-") and len(name) == 15
    assert name != proconnect_username(ISSUER, "a1b2c4")
    assert name != proconnect_username("https://auth.agentconnect.gouv.fr/api/v2", "a1b2c3")
    with pytest.raises(ValueError):
        proconnect_username(ISSUER, "")


def test_native_sign_up_refuses_the_proconnect_prefix():
    class Probe(BiblioAuthenticator):
        def __init__(self):  # no database: create_user must refuse before touching it
            pass

        def normalize_username(self, username):
            return username.lower()

    assert Probe().create_user("PC-6ae8022e8b53", "un mot de passe long") is None


def test_siret_list_file(tmp_path):
    path = tmp_path / "collectivites.txt"
    path.write_text("# communes\n217 500 016 00019\n\n21690123100011  # Lyon\n")
    assert read_siret_list(path) == {"21750001600019", "21690123100011"}
    path.write_text("21750001600019\n2175000160001\n")
    with pytest.raises(SettingsError, match="ligne 2"):
        read_siret_list(path)
    assert normalise_siret("2175 0001 6000 19") == "21750001600019"
    assert normalise_siret("abc") == ""


def test_collectivite_rules():
    sirets = frozenset({"21750001600019"})
    agent = {"siret": "21750001600019", "categorie_juridique": "5710"}
    assert is_collectivite(agent, rule="liste", sirets=sirets)
    assert not is_collectivite({"siret": "13002526500013"}, rule="liste", sirets=sirets)
    assert not is_collectivite(
        agent, rule="categorie", sirets=sirets, category_claim="categorie_juridique"
    )
    for code in ("7210", "7220", "7230", "7346", "7348", "7344", "7343"):
        assert is_collectivite_category(code)
    for code in ("7389", "5710", "72", "", None, "4110"):
        assert not is_collectivite_category(code)


def test_acr_levels_at_or_above_the_minimum():
    assert acceptable_acr("eidas1") == ["eidas1", "eidas1-mfa", "eidas2", "eidas3"]
    assert acceptable_acr("eidas3") == ["eidas3"]
    asked = json.loads(acr_request("eidas2"))
    assert asked == {"id_token": {"acr": {"essential": True, "values": ["eidas2", "eidas3"]}}}


def test_profile_in_french():
    info = {"given_name": "Jeanne Marie", "usual_name": "Martin", "siret": "21750001600019"}
    assert display_profile(info)["nom"] == "Jeanne Marie Martin"
    assert display_profile(info)["organisation"] == "SIRET 21750001600019"
    info["organization_label"] = "Commune d'Exemple"
    assert display_profile(info)["organisation"] == "Commune d'Exemple"
    assert display_profile({"email": "a@b.fr"})["nom"] == "a@b.fr"


def test_oauthenticator_refusals_in_french():
    from tornado import web

    error = french_oauth_error(web.HTTPError(400, "OAuth state mismatch"))
    assert error.status_code == 400 and "state ne correspond pas" in error.jupyterhub_message
    error = french_oauth_error(web.HTTPError(400, "OAuth error: access_denied"))
    assert error.jupyterhub_message.startswith("ProConnect a interrompu la connexion")
    assert refusal(403, "100 % refusé").log_message % () == "100 % refusé"


def _authenticator(**traits):
    from hub.config.proconnect_auth import ProConnectAuthenticator

    return ProConnectAuthenticator(client_id="client-id", client_secret="s", **traits)


def test_unreachable_provider_is_a_french_503():
    import asyncio

    from hub.shared import free_port

    auth = _authenticator(issuer=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(Exception) as caught:
        asyncio.run(auth.discover())
    assert caught.value.status_code == 503
    assert "ProConnect ne répond pas" in caught.value.jupyterhub_message


def test_siret_list_is_read_again_when_it_changes(tmp_path):
    import os

    path = tmp_path / "collectivites.txt"
    auth = _authenticator(issuer=ISSUER, collectivites_file=str(path))
    assert auth.collectivite_sirets() == frozenset()  # missing file: nobody, a warning
    path.write_text("21750001600019\n")
    assert auth.collectivite_sirets() == {"21750001600019"}
    path.write_text("21750001600019\n21690123100011\n")
    os.utime(path, ns=(1, 10**18))
    assert len(auth.collectivite_sirets()) == 2
    path.write_text("pas un siret\n")
    os.utime(path, ns=(1, 2 * 10**18))
    with pytest.raises(Exception) as caught:
        auth.collectivite_sirets()
    assert caught.value.status_code == 503 and "illisible" in caught.value.jupyterhub_message
