"""Hostile-input corpus of the runner, generated from the entries' samples (small files only).

``cases(folder)`` writes each case's file under ``folder`` and returns ``Case`` records: the
command's arguments, the expected exit code and the French key words of the message.
``python tests/hostile/make_corpus.py DIR`` writes the files and prints the cases.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENTRIES = ("canteen_attendance", "air_quality", "bike_counters")


@dataclass
class Case:
    name: str
    entry: str
    args: list[str]  # after `biblio`; {file} is the case's file
    code: int
    words: list[str] = field(default_factory=list)
    xfail: str | None = None
    absent: list[str] = field(default_factory=list)  # must not appear in the output


SERIES_COLUMN = {"canteen_attendance": 0, "air_quality": 1, "bike_counters": 0}


def head(entry: str) -> str:
    """The sample's first series only (one canteen, station or counter): long enough to
    train, small enough for a fast corpus."""
    header, *lines = (ROOT / "datasets" / entry / "sample.csv").read_text("utf-8").splitlines()
    sep = ";" if header.count(";") > header.count(",") else ","
    col = SERIES_COLUMN[entry]
    first = lines[0].split(sep)[col]
    kept = [x for x in lines if x.split(sep)[col] == first]
    return "\n".join([header, *kept]) + "\n"


def cases(folder: Path) -> list[Case]:
    folder.mkdir(parents=True, exist_ok=True)
    out: list[Case] = []

    def file(name: str, content: str | bytes) -> str:
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return str(path)

    for e in ENTRIES:
        sample = head(e)
        header, *rows = sample.splitlines()
        v = ["validate", e]
        out += [
            Case(f"{e}-vide", e, [*v, file(f"{e}_vide.csv", "")], 2, ["vide"]),
            Case(f"{e}-entete", e, [*v, file(f"{e}_entete.csv", header + "\n")], 2, []),
            Case(f"{e}-binaire", e, [*v, file(f"{e}_bin.csv", bytes(range(256)) * 8)], 2, []),
            Case(f"{e}-absent", e, [*v, str(folder / "absent.csv")], 2, ["introuvable"]),
            Case(f"{e}-utf16", e, [*v, file(f"{e}_utf16.csv", sample.encode("utf-16"))], 0, []),
            Case(
                f"{e}-dossier",
                e,
                [*v, str(folder)],
                2,
                ["dossier"],
            ),
            Case(
                f"{e}-entete-repete",
                e,
                [*v, file(f"{e}_rep.csv", header + "," + header.split(",")[-1] + "\n")],
                2,
                [],
            ),
            Case(
                f"{e}-map-cible",
                e,
                [*v, file(f"{e}_ok.csv", sample), "--map", "x=colonne_inconnue"],
                2,
                ["colonne_inconnue", "--map"],
            ),
            Case(
                f"{e}-map-forme", e, [*v, str(folder / f"{e}_ok.csv"), "--map", "x"], 2, ["--map"]
            ),
            Case(
                f"{e}-param-inconnu",
                e,
                ["run", e, "--quick", "--param", "vitesse=3"],
                2,
                ["paramètre inconnu", "vitesse"],
            ),
        ]
    out += [
        Case(
            "canteen-manque",
            "canteen_attendance",
            ["run", "canteen_attendance", "--param", "jours_de_manque_par_mois=9"],
            2,
            ["jours_de_manque_par_mois", "entre 0.1 et 6"],
        ),
        Case(
            "canteen-horizon",
            "canteen_attendance",
            ["run", "canteen_attendance", "--param", "horizon_days=-3"],
            2,
            ["horizon_days", "entre 1 et 60"],
        ),
        Case(
            "canteen-nan",
            "canteen_attendance",
            ["run", "canteen_attendance", "--param", "jours_de_manque_par_mois=NaN"],
            2,
            ["nombre fini"],
        ),
        Case(
            "bike-sensibilite",
            "bike_counters",
            ["run", "bike_counters", "--param", "sensitivity=0"],
            2,
            ["sensitivity", "entre 0.1 et 10"],
        ),
        Case(
            "air-polluant",
            "air_quality",
            ["run", "air_quality", "--param", 'pollutant="CO"'],
            2,
            ["pollutant", "parmi"],
        ),
        Case(
            "air-seuil",
            "air_quality",
            ["run", "air_quality", "--param", "threshold=-5"],
            2,
            ["threshold", "supérieur à 0"],
        ),
    ]
    ca = head("canteen_attendance")
    h, *r = ca.splitlines()
    loop = folder / "boucle.csv"
    if not loop.is_symlink():
        loop.symlink_to(loop)
    v = ["validate", "canteen_attendance"]
    big = r[0].replace("JULES VERNE E", "X" * (130 * 1024))
    future = "\n".join([h, *[x.replace("2015-", "2099-") for x in r]]) + "\n"
    out += [
        Case("canteen-boucle", "c", [*v, str(loop)], 2, ["lien"]),
        Case(
            "canteen-doublons",
            "c",
            [*v, file("dbl.csv", ca + "\n".join(r) + "\n")],
            0,
            ["Doublons exacts : 561", "561 doublons"],
            absent=["Note de qualité : A"],
        ),
        Case(
            "canteen-futur",
            "c",
            [*v, file("futur.csv", future)],
            0,
            ["01/09/2099 est dans le futur", "55 lignes écartées"],
        ),
        Case(
            "canteen-tout-futur",
            "c",
            [*v, file("tout_futur.csv", ca.replace(",201", ",209"))],
            2,
            ["dans le futur"],
        ),
        Case(
            "canteen-an-2915",
            "c",
            [*v, file("an_2915.csv", ca.replace(",20", ",29"))],
            2,
            ["date"],
        ),
        Case(
            "canteen-champ-enorme",
            "c",
            [*v, file("big.csv", "\n".join([h, big, *r[1:]]) + "\n")],
            0,
            ["utilisable"],
        ),
        Case(
            "canteen-une-ligne",
            "c",
            [*v, file("une.csv", h + "\n" + r[0] + "\n")],
            2,
            ["trop court"],
        ),
        Case(
            "canteen-html",
            "c",
            [*v, file("html.csv", ca.replace("JULES VERNE E", "<script>alert(1)</script>"))],
            0,
            ["utilisable"],
        ),
    ]
    aq = head("air_quality")
    ah, *ar = aq.splitlines()
    bk = head("bike_counters")
    bh, *br = bk.splitlines()
    va, vb = ["validate", "air_quality"], ["validate", "bike_counters"]
    mixed = "\n".join([h, *[x.replace(",", ";") if i % 3 == 0 else x for i, x in enumerate(r)]])
    impossible = "\n".join([h, r[0].replace(r[0].split(",")[2], "2015-02-30"), *r[1:]])
    text_count = "\n".join([h, *[x.replace(",199,", ",beaucoup,") for x in r]])
    twice = h.replace(",reel,", ",reel,reel,")
    twice_rows = [",".join(x.split(",")[:5] + x.split(",")[4:]) for x in r]
    no_station = "\n".join(",".join(x.split(",")[:1] + x.split(",")[2:]) for x in [ah, *ar])
    empty_station = "\n".join(
        [ah, ",".join(ar[0].split(",")[:1] + [""] + ar[0].split(",")[2:]), *ar[1:]]
    )
    text_value = ",".join(ar[0].split(",")[:2] + ["abc"] + ar[0].split(",")[3:])
    out += [
        Case(
            "canteen-separateurs-melanges",
            "c",
            [*v, file("mixte.csv", mixed + "\n")],
            2,
            ["lignes"],
        ),
        Case(
            "canteen-date-impossible",
            "c",
            [*v, file("impossible.csv", impossible + "\n")],
            0,
            ["2015-02-30", "1 ligne écartée"],
        ),
        Case(
            "canteen-texte-comptage",
            "c",
            [*v, file("texte.csv", text_count + "\n")],
            0,
            ["beaucoup"],
        ),
        Case(
            "canteen-colonne-repetee",
            "c",
            [*v, file("reel2.csv", "\n".join([twice, *twice_rows]) + "\n")],
            2,
            ["reel"],
        ),
        Case(
            "air-sans-station",
            "air_quality",
            [*va, file("air_ss.csv", no_station + "\n")],
            0,
            ["utilisable"],
            absent=["doublon"],
        ),
        Case(
            "air-station-vide",
            "air_quality",
            [*va, file("air_sv.csv", empty_station + "\n")],
            0,
            ["1 ligne écartée"],
        ),
        Case(
            "air-valeur-texte",
            "air_quality",
            [*va, file("air_txt.csv", "\n".join([ah, text_value, *ar[1:]]) + "\n")],
            0,
            ["abc", "1 ligne écartée"],
        ),
        Case(
            "bike-echantillon", "bike_counters", [*vb, file("bike_ok.csv", bk)], 0, ["utilisable"]
        ),
        Case(
            "bike-heure-repetee",
            "bike_counters",
            [*vb, file("bike_h.csv", bh.replace(";10;", ";09;") + "\n" + "\n".join(br) + "\n")],
            2,
            ["09"],
        ),
    ]
    return out


if __name__ == "__main__":
    for c in cases(Path(sys.argv[1] if len(sys.argv) > 1 else "corpus")):
        print(c.name, c.code, " ".join(c.args))
