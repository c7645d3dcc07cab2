"""Safe model files with skops: atomic writes, explicit trusted types, never pickle or joblib.

``save_model`` writes a ``.skops`` archive (plus an optional JSON ``metadata`` member inside
the same archive) through a temporary file and ``os.replace``. ``load_model`` lists the types
skops does not trust by itself (``skops.io.get_untrusted_types``) and refuses the file with
``UntrustedModelError`` when any of them is outside the explicit trusted list.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from models.errors import ModelFileError, UntrustedModelError
from models.fsutil import atomic_path

METADATA_MEMBER = "biblio_metadata.json"

DEFAULT_TRUSTED: tuple[str, ...] = (
    # Types skops does not trust by itself, found in the entries' fitted models
    # (tests/unit/test_persist.py checks this list against real round trips).
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
    # Estimators our models use (trusted by skops already; listed to be explicit).
    "sklearn.pipeline.Pipeline",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.preprocessing._encoders.OneHotEncoder",
    "sklearn.preprocessing._encoders.OrdinalEncoder",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.impute._base.SimpleImputer",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._iforest.IsolationForest",
    "sklearn.linear_model._logistic.LogisticRegression",
)
"""Type names a model file may contain beyond skops' own safe defaults."""


def _skops() -> Any:
    """``skops.io``, imported on first use (entry packages import this module at start-up)."""
    import skops.io

    return skops.io


def _type_name(item: Any) -> str:
    if isinstance(item, str):
        return item
    return f"{item.__module__}.{item.__qualname__}"


def save_model(obj: Any, path: Path | str, *, metadata: dict[str, Any] | None = None) -> Path:
    """Write ``obj`` to ``path`` with skops, atomically; ``metadata`` (JSON) goes inside.

    Returns the path. The parent folder is created if needed.
    """
    target = Path(path)
    with atomic_path(target) as tmp:
        _skops().dump(obj, tmp, compression=zipfile.ZIP_DEFLATED)
        if metadata is not None:
            with zipfile.ZipFile(tmp, "a") as archive:
                archive.writestr(METADATA_MEMBER, json.dumps(metadata, ensure_ascii=False))
    return target


def _check_file(target: Path) -> None:
    if not target.is_file():
        raise ModelFileError(f"Fichier de modèle introuvable : « {target} ».")
    if not zipfile.is_zipfile(target):
        raise ModelFileError(
            f"« {target} » n'est pas un fichier de modèle skops valide (archive illisible)."
        )


def untrusted_types(path: Path | str, *, trusted: Iterable[Any] | None = None) -> list[str]:
    """Types in the file that neither skops nor the ``trusted`` list (default ours) trusts."""
    target = Path(path)
    _check_file(target)
    allowed = {_type_name(t) for t in (DEFAULT_TRUSTED if trusted is None else trusted)}
    try:
        found = _skops().get_untrusted_types(file=target)
    except Exception as exc:  # noqa: BLE001 - a damaged archive is a file problem
        raise ModelFileError(f"Le fichier de modèle « {target} » est illisible : {exc}.") from exc
    return sorted(t for t in found if t not in allowed)


def load_model(path: Path | str, *, trusted: Iterable[Any] | None = None) -> Any:
    """Load a skops model file, refusing any type outside ``trusted`` (default ``DEFAULT_TRUSTED``).

    ``trusted`` holds type names (``"module.Class"``) or types. Raises ``UntrustedModelError``
    (French) listing the refused types, ``ModelFileError`` when the file is missing or damaged.
    """
    target = Path(path)
    refused = untrusted_types(target, trusted=trusted)
    if refused:
        listing = ", ".join(f"« {t} »" for t in refused)
        raise UntrustedModelError(
            f"Chargement refusé : le fichier de modèle « {target.name} » contient des types non "
            f"approuvés ({listing}). Un fichier de modèle peut exécuter du code : ne chargez que "
            "des fichiers de source sûre, et ajoutez explicitement ces types à la liste de "
            "confiance si vous les avez vérifiés.",
            untrusted_types=refused,
        )
    try:
        sio = _skops()
        return sio.load(target, trusted=sio.get_untrusted_types(file=target))
    except Exception as exc:  # noqa: BLE001 - a damaged archive is a file problem
        raise ModelFileError(f"Le fichier de modèle « {target} » est illisible : {exc}.") from exc


def load_metadata(path: Path | str) -> dict[str, Any]:
    """The ``metadata`` saved with the model (``{}`` if none); loads no Python object."""
    target = Path(path)
    _check_file(target)
    with zipfile.ZipFile(target) as archive:
        if METADATA_MEMBER not in archive.namelist():
            return {}
        return json.loads(archive.read(METADATA_MEMBER).decode("utf-8"))
