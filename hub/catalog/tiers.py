"""The three access tiers of the catalog and how a token's scopes map to one.

The service never keeps its own user table: the tier comes only from the scopes of the
token JupyterHub issued to the user (``scopes`` of the HubOAuth user model).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum

SCOPE_RESTREINT = "custom:biblio:restreint"
SCOPE_EXPERT = "custom:biblio:expert"


class Tier(IntEnum):
    """Ordered tiers: a higher tier sees everything a lower one sees."""

    PUBLIC = 0
    RESTREINT = 1
    EXPERT = 2

    @property
    def label(self) -> str:
        return {0: "public", 1: "restreint", 2: "expert"}[int(self)]


def tier_from_scopes(scopes: Iterable[str] | None) -> Tier:
    """The tier granted by a token's scopes (``None`` or no scopes: public).

    ``custom:biblio:expert`` alone also grants the restricted fields: experts see
    everything a collectivité sees.
    """
    granted = set(scopes or ())
    if SCOPE_EXPERT in granted:
        return Tier.EXPERT
    if SCOPE_RESTREINT in granted:
        return Tier.RESTREINT
    return Tier.PUBLIC


def tier_from_user(user_model: dict | None) -> Tier:
    """The tier of a HubOAuth user model (``None`` for an anonymous visitor)."""
    if not user_model:
        return Tier.PUBLIC
    return tier_from_scopes(user_model.get("scopes"))
