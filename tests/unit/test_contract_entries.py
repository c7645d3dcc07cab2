"""The entry contract (docs/design.md) checked on every real entry of the repository.

Parametrised over ``models.contract.entry_ids()``; the same checks run on a freshly
scaffolded entry in ``tests/unit/test_scaffold.py``. Fails when the library has no entry.
"""

import pytest

from hub.runner.checks import contract_problems, notebook_problems
from models.contract import REPO_ROOT, entry_ids, entry_paths

IDS = entry_ids()


def test_the_library_has_entries():
    assert IDS, f"no entry: no notebook in {REPO_ROOT / 'notebooks'}"


@pytest.mark.parametrize("entry_id", IDS)
def test_entry_follows_the_contract(entry_id):
    problems = contract_problems(entry_id, REPO_ROOT)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("entry_id", IDS)
def test_notebook_is_committed_without_outputs(entry_id):
    # Also part of contract_problems; kept apart so that the failure names the cause.
    problems = [p for p in notebook_problems(entry_paths(entry_id).notebook) if "sorties" in p]
    assert problems == []
