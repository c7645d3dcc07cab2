"""Each hostile case: exit code, no traceback, French key words, output folder untouched."""

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest

from hub.runner import cli
from tests.hostile.make_corpus import cases, head

pytestmark = pytest.mark.hostile


def _params(tmp):
    out = []
    for c in cases(tmp):
        marks = [pytest.mark.xfail(strict=False, reason=c.xfail)] if c.xfail else []
        out.append(pytest.param(c, id=c.name, marks=marks))
    return out


CORPUS = Path(tempfile.mkdtemp(prefix="biblio-hostile-"))  # parametrised at collection
atexit.register(shutil.rmtree, CORPUS, True)


@pytest.mark.parametrize("case", _params(CORPUS))
def test_case(case, tmp_path, capsys):
    out = tmp_path / "sortie"
    args = list(case.args)
    if args[0] == "run":
        args += ["--out", str(out)]
    code = cli.main(args)
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "Traceback" not in text
    assert code == case.code, text
    for word in case.words:
        assert word in text, (word, text)
    for word in case.absent:
        assert word not in text, (word, text)
    if code != 0:
        assert not out.exists() and list(tmp_path.iterdir()) == []


def test_refused_run_leaves_a_previous_output_folder_as_it_was(tmp_path, capsys):
    data = tmp_path / "vide.csv"
    data.write_text("", encoding="utf-8")
    out = tmp_path / "sortie"
    out.mkdir()
    (out / "mes_notes.txt").write_text("à garder", encoding="utf-8")
    before = sorted(p.name for p in out.iterdir())
    code = cli.main(["run", "canteen_attendance", "--data", str(data), "--out", str(out)])
    text = "".join(capsys.readouterr())
    assert code == 2 and "Traceback" not in text and "vide" in text
    assert sorted(p.name for p in out.iterdir()) == before
    assert (out / "mes_notes.txt").read_text(encoding="utf-8") == "à garder"
    assert [p.name for p in tmp_path.iterdir() if "echec" in p.name] == []


def test_formula_values_come_out_neutralised(tmp_path, capsys):
    header, *rows = head("canteen_attendance").splitlines()
    name = rows[0].split(",")[5]
    formula = '=HYPERLINK("http://exemple.invalid";"x")'
    data = tmp_path / "formules.csv"
    data.write_text("\n".join([header, *(r.replace(name, formula) for r in rows)]) + "\n")
    out = tmp_path / "sortie"
    code = cli.main(["run", "canteen_attendance", "--data", str(data), "--out", str(out)])
    assert code == 0, "".join(capsys.readouterr())
    written = {p.name: p.read_text(encoding="utf-8") for p in out.glob("*.csv")}
    assert written, "the run wrote no table"
    cells = [
        c.strip('"') for t in written.values() for line in t.splitlines() for c in line.split(",")
    ]
    assert not [c for c in cells if c.startswith("=")], "a formula reached a spreadsheet"
    assert any(c.startswith("'=HYPERLINK") for c in cells), "the name is still shown"
