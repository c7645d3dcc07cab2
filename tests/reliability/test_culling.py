"""A demonstrator stopped by the idle culler keeps its files, and the next launch resumes
where the user left off (nothing seeded again, the user's edits there)."""

import re

from tests.reliability.conftest import CULL_TIMEOUT
from tests.reliability.helpers import answers, fingerprint, get_text, put_text


def test_a_culled_server_keeps_its_files_and_resumes(culling_hub, entry):
    hub = culling_hub
    token = hub.create_user("inactif", ("experts",))
    hub.start_server("inactif", entry, token=token)
    notebook = f"{entry}/{entry}.ipynb"
    edited = get_text(hub, "inactif", entry, token, notebook).replace(
        '"cells": [',
        '"cells": [{"cell_type": "markdown", "id": "note-a", "metadata": {}, '
        '"source": ["Ma note avant la pause"]},',
        1,
    )
    put_text(hub, "inactif", entry, token, notebook, edited)
    put_text(hub, "inactif", entry, token, f"{entry}/resultats.csv", "jour;valeur\n1;2\n")
    work = hub.state_dir / "users" / "inactif" / entry
    files = fingerprint(work)

    seconds = hub.wait_stopped("inactif", entry, timeout=CULL_TIMEOUT + 20)
    assert seconds <= CULL_TIMEOUT + 10, f"culled after {seconds:.0f} s"
    log = hub.log_text()
    assert re.search(rf"DELETE /hub/api/users/inactif/servers/{entry} \(idle-culler@", log)
    assert fingerprint(work) == files

    hub.start_server("inactif", entry, token=token)
    assert answers(hub, "inactif", entry, token)
    assert f"biblio: seed for inactif/{entry} (0 files copied)" in hub.log_text()
    assert "Ma note avant la pause" in get_text(hub, "inactif", entry, token, notebook)
    assert get_text(hub, "inactif", entry, token, f"{entry}/resultats.csv") == "jour;valeur\n1;2\n"
    assert fingerprint(work) == files
