"""The national data model of the Bibliothèque IA territoriale, with each field's tier.

Field names, enums and required flags follow the national Table Schema
(``interconnectes_IA-schema.json``); the labels are clean French titles of our own (the
national titles carry editing accidents). Tiers follow the national model: public fields
are listed explicitly; every other field, including any field the national model adds later,
is *restreint* (fail closed: a field nobody classified is never public).

``fields_from_table_schema`` reads a national schema file so that ``biblio catalog import
--schema`` validates against a newer model; tiers and labels still come from here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from hub.catalog.tiers import Tier


@dataclass(frozen=True)
class FieldSpec:
    """One field of the national model."""

    name: str
    label: str
    tier: Tier
    required: bool = False
    enum: tuple[str, ...] = ()
    multi: bool = False  # several enum values separated by commas (Sous_Theme, Audience)
    kind: str = "text"  # text, number, siret, date, month_or_date, url


P, R = Tier.PUBLIC, Tier.RESTREINT

TYPES_COLLECTIVITE = ("Commune", "EPCI", "Département", "Région", "Syndicat mixte", "Opérateur")
STATUTS = ("En expérimentation", "En déploiement", "Terminée", "Abandonné")
THEMES = (
    "Transition écologique et énergétique",
    "Attractivité et développement",
    "Citoyenneté, santé et solidarité",
    "Mobilités",
    "Gouvernance et socles technologiques",
    "Administration et organisation interne",
)
SOUS_THEMES = (
    "Performance énergétique",
    "Commerce et développement économique",
    "Education",
    "Logistique urbaine",
    "Modélisation et jumeau numérique",
    "Gestion des ressources humaines",
    "Eclairage public",
    "Agriculture",
    "Santé et accès aux soins",
    "Multimodalités",
    "Outillage système d’information",
    "Gestion des assemblées",
    "Gestion de l’eau",
    "Culture et loisirs",
    "Accessibilité et handicap",
    "Flux et trafic",
    "Infrastructures numériques",
    "Gestion des marchés publics",
    "Déchets et économie circulaire",
    "Construction et aménagement",
    "Lien social et relation aux usagers",
    "Mobilité décarbonée",
    "Gouvernance et stratégie numérique responsable",
    "Aide à la rédaction et gestion documentaire",
    "Qualité de l’air et nuisances sonores",
    "Immobilier",
    "Inclusion numérique",
    "Stationnement",
    "Plateforme de données",
    "Aide juridique",
    "Biodiversité et préservation des espaces naturels",
    "Participation citoyenne",
    "Cybersécurité",
    "Prévention et gestion des risques",
)
AUDIENCES = (
    "Grand public",
    "Bénéficiaire",
    "Agent",
    "Association",
    "Elu",
    "Entreprises",
    "Collectivités",
    "Etablissement scolaire",
    "Etablissement santé",
)

FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("Nom_collectivite", "Porteur", P, True),
    FieldSpec("Nom_du_projet", "Projet", P, True),
    FieldSpec("SIRET", "SIRET de la collectivité", P, True, kind="siret"),
    FieldSpec("Latitude", "Latitude", P, kind="number"),
    FieldSpec("Longitude", "Longitude", P, kind="number"),
    FieldSpec("Type_de_collectivite", "Type de collectivité", P, True, TYPES_COLLECTIVITE),
    FieldSpec("Date_de_demarrage", "Date de démarrage", P, True, kind="month_or_date"),
    FieldSpec("Statut_du_projet", "Statut", P, True, STATUTS),
    FieldSpec("status_abandon", "Raisons de l'abandon", P),
    FieldSpec("Partenaires", "Partenaires", P),
    FieldSpec("projet_contact", "Contact du service en charge", R, True),
    FieldSpec("financement", "Financement", R),
    FieldSpec(
        "budget", "Budget annuel", R, enum=("moins de 50k€", "de 50k€ à 100k€", "plus de 100k€")
    ),
    FieldSpec("Description_service", "Description du service et de ses usages", P, True),
    FieldSpec(
        "mise_en_oeuvre",
        "Développement et mise en œuvre",
        R,
        True,
        (
            "Projet développé en interne",
            "projet développé en externe",
            "mobilisation de prestataire(s)",
            "marché public",
        ),
    ),
    FieldSpec("Theme", "Thème", P, True, THEMES),
    FieldSpec("Sous_Theme", "Sous-thèmes", P, False, SOUS_THEMES, multi=True),
    FieldSpec("Audience", "Audience", P, True, AUDIENCES, multi=True),
    FieldSpec(
        "herbergement",
        "Hébergement du service",
        R,
        True,
        ("cloud chez un tiers", "en interne de l'administration", "NSP"),
    ),
    FieldSpec("nom_algorithme", "Nom de l'algorithme", R, True),
    FieldSpec("algorithme_description", "Description de l'algorithme", R),
    FieldSpec("algorithme_operations", "Opérations effectuées par l'algorithme", R),
    FieldSpec(
        "type_algorithme",
        "Type d'algorithme",
        R,
        True,
        (
            "Machine Learning",
            "Traitement Automatique du langage",
            "IA générative",
            "Computer vision",
            "Réseaux de neurones",
            "NSP",
        ),
    ),
    FieldSpec("impact_environnement", "Impact environnemental", R),
    FieldSpec(
        "donnees_source",
        "Source des données",
        R,
        True,
        ("usager", "jeu de données interne", "open data", "données d'un tiers", "NSP"),
    ),
    FieldSpec(
        "donnees_acces",
        "Mode de collecte des données",
        R,
        True,
        ("par API", "automatisée", "par récupération manuelle", "NSP"),
    ),
    FieldSpec("risque", "Évaluation des risques", R),
    FieldSpec(
        "risque_categorie",
        "Catégorie de risque",
        R,
        enum=("risque minimal", "risque limité", "risque élevé", "inacceptable"),
    ),
    FieldSpec("proportionalite", "Proportionnalité", R),
    FieldSpec("decision", "Portée de la décision", R),
    FieldSpec("erreur", "Efficacité du système d'IA", R, enum=("faible", "moyen", "fort")),
    FieldSpec("explicabilite", "Niveau d'explicabilité", R, enum=("faible", "moyen", "fort")),
    FieldSpec("reversibilite", "Réversibilité", R),
    FieldSpec("objection", "Procédure d'objection", R),
    FieldSpec("URL_Service", "Lien vers le projet", P, kind="url"),
    FieldSpec("url_ressources", "Ressources techniques", R, kind="url"),
    FieldSpec("URL_Logo", "Logo", P, True, kind="url"),
    FieldSpec("Date_de_derniere_mise_a_jour", "Dernière mise à jour", P, True, kind="date"),
)

FIELDS_BY_NAME: dict[str, FieldSpec] = {f.name: f for f in FIELDS}
PUBLIC_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.tier == Tier.PUBLIC)
RESTREINT_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.tier == Tier.RESTREINT)


def field_tier(name: str) -> Tier:
    """The tier of a national field; unknown fields are restreint (fail closed)."""
    spec = FIELDS_BY_NAME.get(name)
    return spec.tier if spec is not None else Tier.RESTREINT


def field_label(name: str) -> str:
    spec = FIELDS_BY_NAME.get(name)
    return spec.label if spec is not None else name


def fields_from_table_schema(schema: dict[str, Any]) -> tuple[FieldSpec, ...]:
    """Field specs read from a national Table Schema (names, required, enums).

    Tiers, labels, kinds and multi-valued flags come from ``FIELDS`` when the field is
    known; a field we do not know is restreint, labelled with its name.
    """
    specs = []
    for raw in schema.get("fields", []):
        name = str(raw.get("name", "")).strip()
        if not name:
            continue
        constraints = raw.get("constraints") or {}
        known = FIELDS_BY_NAME.get(name)
        base = known or FieldSpec(name, name, Tier.RESTREINT)
        specs.append(
            replace(
                base,
                required=bool(constraints.get("required", False)),
                enum=tuple(str(v) for v in constraints.get("enum", ()) or ()),
            )
        )
    return tuple(specs)
