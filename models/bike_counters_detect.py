"""Anomaly detection on bike counts: explicit rules plus robust residual scoring.

Works on hourly series (``values`` of shape ``(n_days, 24)``) or daily series (``values`` of
shape ``(n_days, 1)``), one counter after the other, on the flattened series of units:

- **missing values**: every missing unit is flagged — a run of at least a day is an outage
  (``panne``), a shorter one a partial day (``journee_partielle``); trailing hours missing on the
  last day of the file are "not yet published" and not flagged;
- **runs of zeros**: flagged as ``panne`` when their probability under the expected counts
  (negative binomial) is below ``exp(-ZERO_LOGP / sensitivity)``; every whole day of zeros
  (24 observed zero hours, or a zero daily count) is an outage too;
- **flat lines**: runs of one repeated non-zero value whose probability of repeating (sum of
  log collision probabilities) is below ``exp(-FLAT_LOGP / sensitivity)``: ``valeur_bloquee``;
- **robust residuals**: for windows of several lengths, ``log((observed + ½)/(expected + ½))``
  standardised per counter and window length (median, MAD, plus the Poisson part); a unit is
  flagged when a window covering it exceeds ``WINDOW_Z / sensitivity`` and its own residual
  goes the same way; a flagged run is a spike (``pic``), doubled counts (``double_comptage``,
  ratio ≈ 2 for at least two days), a scale-down (``sous_comptage``) or an outage (ratio ≈ 0).

Corrected values replace flagged and missing units by the expected count.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.ndimage import maximum_filter1d
from scipy.special import betainc, gammaln
from scipy.stats import nbinom, norm

KINDS = (
    "panne",
    "journee_partielle",
    "pic",
    "sous_comptage",
    "valeur_bloquee",
    "double_comptage",
)
KIND_LABELS = {
    "panne": "panne (zéros ou valeurs manquantes)",
    "journee_partielle": "journée partielle (heures manquantes)",
    "pic": "pic (comptage 2 à 4 fois trop élevé)",
    "sous_comptage": "sous-comptage (25 à 40 % du normal)",
    "valeur_bloquee": "valeur bloquée (constante)",
    "double_comptage": "double comptage (×2)",
}

WINDOW_Z = 5.0
ZERO_LOGP = 12.0
FLAT_LOGP = 20.0
DISPERSION = {"hourly": 10.0, "daily": 20.0}
WINDOWS = {"hourly": (1, 3, 6, 24, 72, 168), "daily": (1, 3, 7, 28)}
SHORT_FLOOR = 0.05
LONG_FLOOR = 0.10
REFINE_Z = {"short": 1.0, "long": 2.5}
_KIND_PRIORITY = {k: i for i, k in enumerate(KINDS)}


@lru_cache(maxsize=4)
def _collision_table(k: float) -> tuple[np.ndarray, np.ndarray]:
    """log P(Y1 = Y2) for two independent NB(mean λ, shape k) draws, on a grid of log λ."""
    grid = np.linspace(np.log(1e-3), np.log(2e4), 240)
    out = np.empty_like(grid)
    for i, lg in enumerate(grid):
        lam = float(np.exp(lg))
        sd = np.sqrt(lam + lam * lam / k)
        top = int(lam + 12 * sd + 30)
        pmf = nbinom.pmf(np.arange(top), k, k / (k + lam))
        out[i] = np.log(max(float(np.sum(pmf * pmf)), 1e-300))
    return grid, out


def log_collision(lam: np.ndarray, k: float) -> np.ndarray:
    """log P(two draws are equal) at expected count ``lam`` (vectorised by interpolation)."""
    grid, table = _collision_table(float(k))
    return np.interp(np.log(np.clip(lam, 1e-3, 2e4)), grid, table)


def log_p_zero(lam: np.ndarray, k: float) -> np.ndarray:
    """log P(Y = 0) for NB(mean λ, shape k)."""
    return k * np.log(k / (k + np.clip(lam, 0, None)))


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(start, end)`` (end excluded) of each run of True in ``mask``."""
    padded = np.concatenate([[False], mask.astype(bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(int)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def equal_runs(y: np.ndarray) -> list[tuple[int, int]]:
    """Runs of identical observed values (length ≥ 2), NaN breaking runs."""
    out = []
    n = len(y)
    start = 0
    for i in range(1, n + 1):
        if i == n or not (np.isfinite(y[i]) and y[i] == y[i - 1]):
            if i - start >= 2 and np.isfinite(y[start]):
                out.append((start, i))
            start = i
    return out


def _window_sums(x: np.ndarray, L: int) -> np.ndarray:
    c = np.concatenate([[0.0], np.cumsum(x)])
    return c[L:] - c[:-L]


def window_scores(y: np.ndarray, lam: np.ndarray, L: int, *, floor: float = 0.05) -> np.ndarray:
    """Signed normal score of each window of ``L`` units (NaN when not scorable).

    The window's observed sum is compared with a negative binomial around its expected sum
    (corrected by the counter's median log ratio); the extra variance beyond Poisson is the
    counter's robust spread of log ratios for that window length (at least ``floor``). The
    mid-p tail probability is turned into a normal score: +5 means as rare as 5 sigma above.
    """
    n = len(y)
    if n < L:
        return np.full(0, np.nan)
    obs = np.isfinite(y) & np.isfinite(lam)
    sy = np.round(_window_sums(np.where(obs, y, 0.0), L))
    sl = _window_sums(np.where(obs, lam, 0.0), L)
    nobs = _window_sums(obs.astype(float), L)
    valid = (nobs >= max(1.0, L / 2)) & (sl >= 0.5)
    if valid.sum() < 10:
        return np.full(len(sy), np.nan)
    r = np.log((sy + 0.5) / (sl + 0.5))
    poisson = 1.0 / (sl + 0.5)
    med = float(np.median(r[valid]))
    mad = float(np.median(np.abs(r[valid] - med))) * 1.4826
    extra = max(mad**2 - float(np.median(poisson[valid])), floor**2)
    z = (r - med) / np.sqrt(extra + poisson)
    # exact negative-binomial tails only where the normal approximation is not clearly normal
    exact = valid & (np.abs(z) > 2.0)
    if exact.any():
        mu = np.clip(sl[exact] * np.exp(med), 1e-3, None)
        size = 1.0 / extra
        prob = size / (size + mu)
        k = sy[exact]
        log_pmf = (
            gammaln(k + size)
            - gammaln(size)
            - gammaln(k + 1)
            + size * np.log(prob)
            + k * np.log1p(-prob)
        )
        half = 0.5 * np.exp(log_pmf)
        low_side = z[exact] < 0
        # P(Y <= k) = I_p(size, k + 1); P(Y >= k) = I_{1-p}(k, size)
        tail = np.where(
            low_side,
            betainc(size, k + 1, prob),
            betainc(np.maximum(k, 1e-9), size, 1 - prob),
        )
        tail = np.clip(tail - half, 1e-300, 1.0)
        z[exact] = np.where(low_side, norm.ppf(tail), norm.isf(tail))
    return np.where(valid, np.clip(z, -40, 40), np.nan)


def _cover(z_start: np.ndarray, L: int, n: int) -> np.ndarray:
    """For each unit, the max of ``z_start`` over the windows of length ``L`` covering it."""
    if len(z_start) == 0:
        return np.zeros(n)
    padded = np.concatenate(
        [np.full(L - 1, -np.inf), np.nan_to_num(z_start, nan=-np.inf), np.full(L - 1, -np.inf)]
    )
    m = maximum_filter1d(padded, size=L, origin=(L - 1) // 2)
    return m[L - 1 : L - 1 + n]


def score_series(
    y: np.ndarray,
    lam: np.ndarray,
    *,
    layout: str,
    unit_day: np.ndarray,
    sensitivity: float = 1.0,
    protect_tail: int = 0,
) -> dict[str, np.ndarray]:
    """Score and flag one counter's flattened series; see the module docstring.

    ``unit_day`` gives each unit's day index; ``protect_tail`` trailing units are not flagged
    when missing. Returns arrays ``score``, ``flag`` (bool), ``kind`` (str, "" when normal).
    """
    n = len(y)
    s = max(float(sensitivity), 1e-3)
    k = DISPERSION[layout]
    per_day = 24 if layout == "hourly" else 1
    kind = np.full(n, "", dtype=object)
    score = np.zeros(n)
    lam_ok = np.isfinite(lam)

    # residual windows
    pos = np.zeros(n)
    neg = np.zeros(n)
    z1 = window_scores(y, lam, 1)
    z1 = np.nan_to_num(z1, nan=0.0) if len(z1) else np.zeros(n)
    zday = np.zeros(n)
    if layout == "hourly":
        zd = window_scores(y, lam, 24)
        starts = np.arange(0, n, 24)
        if len(zd):
            zday = np.repeat(np.nan_to_num(zd[np.minimum(starts, len(zd) - 1)], nan=0.0), 24)[:n]
    for L in WINDOWS[layout]:
        z = window_scores(y, lam, L, floor=LONG_FLOOR if L >= per_day else SHORT_FLOOR)
        if L == 1:
            ref, thr = z1, 0.0
        elif layout == "hourly" and L >= 24:
            ref, thr = zday, REFINE_Z["long"]
        else:
            ref, thr = z1, REFINE_Z["short"]
        up = _cover(np.where(np.isfinite(z), z, -np.inf), L, n)
        down = _cover(np.where(np.isfinite(z), -z, -np.inf), L, n)
        pos = np.maximum(pos, np.where(ref > thr, up, 0.0))
        neg = np.maximum(neg, np.where(ref < -thr, down, 0.0))
    zscore = np.where(pos >= neg, pos, -neg)
    limit = WINDOW_Z / s
    flagged = np.abs(zscore) > limit
    score = np.abs(zscore)
    for a, b in runs(flagged & (zscore > 0)):
        ratio = (np.nansum(y[a:b]) + 0.5) / (np.nansum(np.where(lam_ok[a:b], lam[a:b], 0)) + 0.5)
        doubled = 1.65 <= ratio <= 2.35 and (b - a) >= 2 * per_day
        kind[a:b] = "double_comptage" if doubled else "pic"
    for a, b in runs(flagged & (zscore < 0)):
        ratio = (np.nansum(y[a:b]) + 0.5) / (np.nansum(np.where(lam_ok[a:b], lam[a:b], 0)) + 0.5)
        kind[a:b] = "panne" if ratio < 0.08 else "sous_comptage"

    # flat lines (non-zero repeated values)
    lc = log_collision(np.where(lam_ok, lam, 1.0), k)
    for a, b in equal_runs(y):
        if y[a] <= 0 or b - a < 3:
            continue
        logp = float(np.sum(lc[a + 1 : b]))
        if logp < -FLAT_LOGP / s:
            kind[a:b] = "valeur_bloquee"
            score[a:b] = np.maximum(score[a:b], limit * logp / (-FLAT_LOGP / s))

    # runs of zeros
    lp0 = log_p_zero(np.where(lam_ok, lam, 0.0), k)
    zero = np.isfinite(y) & (y == 0)
    zero_day = np.zeros(n, dtype=bool)
    if per_day == 24:
        whole = zero.reshape(-1, 24).all(axis=1) if n % 24 == 0 else np.zeros(0, bool)
        zero_day = np.repeat(whole, 24) if len(whole) else zero_day
    else:
        zero_day = zero
    for a, b in runs(zero):
        logp = float(np.sum(lp0[a:b]))
        if logp < -ZERO_LOGP / s:
            kind[a:b] = "panne"
            score[a:b] = np.maximum(score[a:b], limit * logp / (-ZERO_LOGP / s))
    # every whole day of zeros is an outage (a loop never sees nobody for a whole day)
    kind[zero_day] = "panne"
    score[zero_day] = np.maximum(score[zero_day], limit)

    # missing values
    missing = ~np.isfinite(y)
    if protect_tail:
        tail_ok = np.zeros(n, dtype=bool)
        tail = missing[n - protect_tail :]
        # only the trailing block of missing units of the last day is protected
        last_obs = np.flatnonzero(~tail)
        first_tail = (last_obs[-1] + 1) if len(last_obs) else 0
        tail_ok[n - protect_tail + first_tail :] = True
        missing = missing & ~tail_ok
    for a, b in runs(missing):
        kind[a:b] = "panne" if (b - a) >= per_day else "journee_partielle"
        score[a:b] = np.maximum(score[a:b], limit)

    flag = kind != ""
    return {"score": score, "flag": flag, "kind": kind.astype(str), "z": zscore}


def day_kind(kinds: np.ndarray) -> str:
    """Kind of a day from its units' kinds: the most frequent, ties by ``KINDS`` order."""
    present = [k for k in kinds if k]
    if not present:
        return ""
    values, counts = np.unique(present, return_counts=True)
    best = sorted(zip(values, counts, strict=True), key=lambda vc: (-vc[1], _KIND_PRIORITY[vc[0]]))
    return str(best[0][0])
