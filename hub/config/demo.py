"""Demo mode (``BIBLIO_DEMO=1``): one account per tier, for trying the hub out.

Accounts ``expert`` and ``experte`` (group ``experts``: two, to try a joint workspace),
``collectivite`` (group ``collectivites``) and the admin account (``BIBLIO_ADMIN``, group
``admins``) get a new random password at every start, printed once on the hub's output (see
``hub.config.auth``). There is no fixed password anywhere.
"""

from __future__ import annotations

from hub.config.roles import GROUP_ADMINS, GROUP_COLLECTIVITES, GROUP_EXPERTS

DEMO_EXPERT = "expert"
DEMO_EXPERT_2 = "experte"
DEMO_COLLECTIVITE = "collectivite"


def demo_accounts(admin: str) -> dict[str, str]:
    """Demo account name -> its tier group."""
    return {
        DEMO_EXPERT: GROUP_EXPERTS,
        DEMO_EXPERT_2: GROUP_EXPERTS,
        DEMO_COLLECTIVITE: GROUP_COLLECTIVITES,
        admin: GROUP_ADMINS,
    }


def demo_group_members(admin: str) -> dict[str, list[str]]:
    """Tier group -> demo members, for ``hub.config.roles.load_groups``."""
    members: dict[str, list[str]] = {}
    for name, group in demo_accounts(admin).items():
        members.setdefault(group, []).append(name)
    return members
