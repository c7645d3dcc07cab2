"""``python -m models.reference_cli``: one command rebuilds the reference model of any entry."""

import subprocess
import sys

import pytest

from models import reference_cli
from models.entries import REPO_ROOT, UnknownEntryError


def test_unknown_entry_is_a_french_error(capsys):
    with pytest.raises(UnknownEntryError, match="Entrée inconnue"):
        reference_cli.build_reference("inconnue")
    assert reference_cli.main(["inconnue"]) == 2
    assert "Erreur : Entrée inconnue : « inconnue »" in capsys.readouterr().err


def test_builds_the_model_file_and_card_of_an_entry(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "models.reference_cli", "air_quality", "--quick"]
        + ["--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    artifact = tmp_path / "models" / "artifacts" / "air_quality.skops"
    card = tmp_path / "models" / "cards" / "air_quality.md"
    assert artifact.is_file() and card.read_text(encoding="utf-8").startswith("# Fiche modèle")
    assert proc.stdout.splitlines() == [f"Modèle écrit : {artifact}", f"Fiche écrite : {card}"]
