"""``biblio validate`` / ``biblio run`` on partially bad files of the real entries: exit codes,
French messages without traceback, ``--out`` untouched on refusal, ``lignes_ecartees.csv``."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

import models.canteen_attendance as ca
from hub.runner import cli


def run_main(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.fixture(scope="module")
def canteen_rows():
    """The canteen sample as read, cut to a short but trainable history (fast runs)."""
    raw = ca.data._read(None, None)
    first = raw["date"].min()
    return raw[raw["date"] < first + pd.DateOffset(months=10)].reset_index(drop=True)


def _with_bad_rows(rows: pd.DataFrame, path):
    bad = rows.astype({"reel": object, "date": object}).copy()
    bad.loc[3, "reel"] = "=cmd|' /C calc'!A0"
    bad.loc[4, "date"] = "2099-01-05"
    bad.loc[5, "reel"] = "-5"
    bad = pd.concat([bad, bad.iloc[[10]]], ignore_index=True)  # an exact duplicate
    bad.to_csv(path, index=False)
    return path


def test_validate_says_how_many_rows_would_be_set_aside(canteen_rows, tmp_path, capsys):
    path = _with_bad_rows(canteen_rows, tmp_path / "cantines.csv")
    code, out, err = run_main(capsys, "validate", "canteen_attendance", str(path))
    assert code == 0, err
    assert "Fichier utilisable" in out and "3 lignes écartées" in out
    assert "3 lignes seraient écartées par biblio run" in out
    assert "Doublons exacts : 1 ligne identique" in out
    assert "Note de qualité" in out and "Lignes écartées | 3" in out


def test_validate_refuses_below_the_share_with_exit_2(canteen_rows, tmp_path, capsys):
    bad = canteen_rows.astype({"reel": object}).copy()
    bad.loc[bad.index[::5], "reel"] = "x"  # 20 % of the rows
    path = tmp_path / "mauvais.csv"
    bad.to_csv(path, index=False)
    code, _, err = run_main(capsys, "validate", "canteen_attendance", str(path))
    assert code == 2 and "Fichier refusé" in err and "des lignes sont utilisables" in err
    code, out, _ = run_main(
        capsys, "validate", "canteen_attendance", str(path), "--min-share", "0.75"
    )
    assert code == 0 and "lignes écartées" in out
    with pytest.raises(SystemExit) as exit_:  # argparse refuses the option itself
        cli.main(["validate", "canteen_attendance", str(path), "--min-share", "2"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "une part entre 0 (exclu) et 1" in err


@pytest.mark.parametrize(
    "content, words",
    [
        ("site_nom,date,reel,reel\nA,2018-09-03,5,6\n", ["plusieurs colonnes de même nom", "reel"]),
        ("site_nom,date,reel\nA,2018-09-03,5\n", ["série trop courte", "jour de service"]),
        ("", ["vide"]),
    ],
)
def test_structural_problems_exit_2_in_french(tmp_path, capsys, content, words):
    path = tmp_path / "f.csv"
    path.write_text(content, encoding="utf-8")
    code, _, err = run_main(capsys, "validate", "canteen_attendance", str(path))
    assert code == 2
    for word in words:
        assert word in err


def test_directory_and_symlink_loop_are_named(tmp_path, capsys):
    code, _, err = run_main(capsys, "validate", "canteen_attendance", str(tmp_path))
    assert code == 2 and "est un dossier" in err and "introuvable" not in err
    loop = tmp_path / "boucle.csv"
    os.symlink(loop, loop)
    out = tmp_path / "sortie"
    code, _, err = run_main(
        capsys, "run", "canteen_attendance", "--data", str(loop), "--out", str(out), "--quick"
    )
    assert code == 2 and "lien" in err and not out.exists()


def test_refused_run_leaves_out_untouched(tmp_path, capsys):
    path = tmp_path / "court.csv"
    ca.data._read(None, None).head(20).to_csv(path, index=False)
    out = tmp_path / "sortie"
    code, _, err = run_main(
        capsys, "run", "canteen_attendance", "--data", str(path), "--out", str(out), "--quick"
    )
    assert code == 2 and "série trop courte" in err
    assert not out.exists() and not list(tmp_path.glob("sortie*"))


def test_run_sets_rows_aside_and_writes_them(canteen_rows, tmp_path, capsys):
    path = _with_bad_rows(canteen_rows, tmp_path / "cantines.csv")
    out = tmp_path / "sortie"
    code, _, err = run_main(
        capsys,
        "run",
        "canteen_attendance",
        "--data",
        str(path),
        "--out",
        str(out),
        "--quick",
        "--min-share",
        "0.95",
    )
    assert code == 0, err
    table = pd.read_csv(out / "lignes_ecartees.csv", dtype=str)
    assert table["ligne"].tolist() == ["5", "6", "7"]
    assert table["valeur"].tolist()[0] == "'=cmd|' /C calc'!A0"
    assert "-5" in table["valeur"].tolist()
    assert "futur" in table["motif"].iloc[1]
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    acc = metrics["data"]["acceptance"]
    assert acc["rows_read"] == len(canteen_rows) + 1
    assert acc["rows_set_aside"] == 3 and acc["duplicates_exact"] == 1
    assert acc["rows_kept"] == len(canteen_rows) - 3 and acc["min_share"] == 0.95
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["parameters"]["min_share"] == 0.95
    assert run["input"]["acceptance"]["rows_set_aside"] == 3
