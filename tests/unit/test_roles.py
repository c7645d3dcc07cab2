"""RBAC: tiers as groups, custom scopes, no server rights for plain users."""

import pytest
from jupyterhub import scopes as jh_scopes

from hub.config import roles


def _by_name(role_list):
    return {r["name"]: r for r in role_list}


def test_custom_scopes_are_valid_and_expert_includes_restreint():
    for name, spec in roles.CUSTOM_SCOPES.items():
        assert name.startswith("custom:biblio:") and spec["description"]
    assert roles.SCOPE_RESTREINT in roles.CUSTOM_SCOPES[roles.SCOPE_EXPERT]["subscopes"]


def test_plain_users_have_no_server_scope():
    user = _by_name(roles.load_roles("admin"))["user"]
    assert not [s for s in user["scopes"] if "servers" in s]
    assert "self" not in user["scopes"], "'self' would grant servers!user"
    assert "tokens!user" in user["scopes"]


def test_tiers_map_to_groups_and_scopes():
    r = _by_name(roles.load_roles("admin"))
    assert r["biblio-collectivite"]["groups"] == ["collectivites"]
    assert r["biblio-collectivite"]["scopes"] == [roles.SCOPE_RESTREINT, roles.SCOPE_REPRODUIRE]
    assert r["biblio-expert"]["groups"] == ["experts"]
    assert roles.SCOPE_EXPERT in r["biblio-expert"]["scopes"]
    assert "servers!user" in r["biblio-expert"]["scopes"]
    assert not [s for s in r["biblio-expert"]["scopes"] if "!" not in s and "servers" in s], (
        "experts only act on their own servers"
    )
    assert r["admin"]["users"] == ["admin"] and r["admin"]["groups"] == ["admins"]
    assert "scopes" not in r["admin"], "the default admin scopes are kept"
    assert roles.SCOPE_EXPERT in r["biblio-admin"]["scopes"]


def test_reproduce_scope_goes_to_the_three_groups_only():
    r = _by_name(roles.load_roles("admin"))
    holders = sorted(
        name for name, role in r.items() if roles.SCOPE_REPRODUIRE in role.get("scopes", [])
    )
    assert holders == ["biblio-admin", "biblio-collectivite", "biblio-expert"]
    groups = {g for name in holders for g in r[name].get("groups", [])}
    assert groups == {"collectivites", "experts", "admins"}
    assert roles.SCOPE_REPRODUIRE not in r["user"]["scopes"], "never every signed-in user"


def test_admin_name_is_used():
    r = _by_name(roles.load_roles("cheffe"))
    assert r["admin"]["users"] == ["cheffe"] and r["biblio-admin"]["users"] == ["cheffe"]


def test_browsable_services_and_extra_roles():
    extra = roles.culler_role("culler")
    r = _by_name(roles.load_roles("admin", browsable_services=["catalog"], extra=[extra]))
    assert "access:services!service=catalog" in r["user"]["scopes"]
    assert r["culler-role"]["services"] == ["culler"]


@pytest.mark.parametrize("cull_users", [False, True])
def test_culler_role_is_least_privilege(cull_users):
    role = roles.culler_role("idle-culler", cull_users=cull_users)
    assert set(role["scopes"]) >= {"list:users", "read:users:activity", "read:servers"}
    assert "delete:servers" in role["scopes"]
    assert ("admin:users" in role["scopes"]) is cull_users
    assert "admin:servers" not in role["scopes"] and "servers" not in role["scopes"]


def test_every_scope_is_known_to_jupyterhub():
    jh_scopes.define_custom_scopes(
        {k: v for k, v in roles.CUSTOM_SCOPES.items() if k not in jh_scopes.scope_definitions}
    )
    all_roles = roles.load_roles("admin", extra=[roles.culler_role("c", cull_users=True)])
    for role in all_roles:
        for scope in role.get("scopes", []):
            base = scope.split("!", 1)[0]
            assert base in jh_scopes.scope_definitions, scope


def test_groups_are_the_three_tiers_and_only_add_members():
    groups = roles.load_groups({"experts": ["b", "a"]})
    assert set(groups) == {"experts", "collectivites", "admins"}
    assert groups["experts"] == {"users": ["a", "b"]}
    assert groups["admins"] == {"users": []}
