"""Footprint of a run: wall and CPU time, peak memory, energy and CO2e (an estimate).

``ProcessTreeSampler`` samples the resident memory (RSS) and CPU times of the runner process
and of every descendant (the Jupyter kernel) in a background thread. ``estimate`` applies the
Green Algorithms method (Lannelongue, Grealey & Inouye, "Green Algorithms: Quantifying the
Carbon Footprint of Computation", Advanced Science 2021, doi:10.1002/advs.202100707,
https://www.green-algorithms.org):

    energy (kWh) = runtime (h) × (cores × TDP per core × usage + memory (GB) × 0.3725 W/GB)
                   × PUE / 1000
    CO2e (kg)    = energy × carbon intensity (kgCO2e/kWh)

where ``cores × usage × runtime`` is the measured CPU time. Defaults: 12 W per core (Green
Algorithms' value for an unknown CPU), PUE 1.67 (Green Algorithms' default, world average
data centre), and France's electricity at 0.052 kgCO2e/kWh (order of magnitude of the average
French consumption mix in ADEME's Base Empreinte; RTE éCO2mix gives 20–60 g/kWh depending on
the year). Each is a setting (``BIBLIO_TDP_PER_CORE_W``, ``BIBLIO_PUE``,
``BIBLIO_CARBON_INTENSITY`` in kgCO2e/kWh, declared in ``hub.config.settings``); the run passes
its ``Settings`` down, and without one the declared defaults apply.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psutil

from hub.config.settings import Settings

MEMORY_W_PER_GB = 0.3725
SOURCE = (
    "Méthode Green Algorithms (Lannelongue et al., Advanced Science 2021, "
    "doi:10.1002/advs.202100707) ; mix électrique français ≈ 0,052 kgCO2e/kWh "
    "(ordre de grandeur, Base Empreinte ADEME)"
)


def constants(settings: Settings | None = None) -> dict[str, float]:
    """The method's constants: those of ``settings``, else the declared defaults."""
    s = settings or Settings.from_env({})
    return {
        "tdp_per_core_w": s.tdp_per_core_w,
        "memory_w_per_gb": MEMORY_W_PER_GB,
        "pue": s.pue,
        "carbon_intensity_kg_per_kwh": s.carbon_intensity,
    }


def estimate(
    wall_s: float, cpu_s: float, peak_memory_bytes: int, settings: Settings | None = None
) -> dict[str, Any]:
    """Energy (kWh) and CO2e (kg) of a run, Green Algorithms method (see module docstring)."""
    c = constants(settings)
    memory_gb = peak_memory_bytes / 1e9
    core_wh = cpu_s * c["tdp_per_core_w"] / 3600.0
    memory_wh = wall_s * memory_gb * c["memory_w_per_gb"] / 3600.0
    energy_kwh = (core_wh + memory_wh) * c["pue"] / 1000.0
    return {
        "energy_kwh": energy_kwh,
        "co2e_kg": energy_kwh * c["carbon_intensity_kg_per_kwh"],
        "method": "green-algorithms",
        "constants": c,
        "source": SOURCE,
        "is_estimate": True,
    }


@dataclass
class ProcessTreeSampler:
    """Sample RSS and CPU times of this process and its descendants every ``interval`` s."""

    interval: float = 0.1
    root_pid: int = field(default_factory=os.getpid)
    peak_tree_rss: int = 0
    peak_children_rss: int = 0
    samples: int = 0
    _children_cpu: dict[int, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _sample(self) -> None:
        try:
            root = psutil.Process(self.root_pid)
            children = root.children(recursive=True)
            total = root.memory_info().rss
        except psutil.Error:
            return
        child_rss = 0
        for child in children:
            try:
                with child.oneshot():
                    child_rss += child.memory_info().rss
                    t = child.cpu_times()
                    self._children_cpu[child.pid] = t.user + t.system
            except psutil.Error:
                continue
        self.peak_children_rss = max(self.peak_children_rss, child_rss)
        self.peak_tree_rss = max(self.peak_tree_rss, total + child_rss)
        self.samples += 1

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> ProcessTreeSampler:
        self._sample()
        self._thread = threading.Thread(target=self._loop, name="footprint", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    @property
    def sampled_children_cpu_s(self) -> float:
        return sum(self._children_cpu.values())


class Footprint:
    """Measure a block: ``with Footprint() as fp: ...`` then ``fp.result()``."""

    def __init__(self, interval: float = 0.1, settings: Settings | None = None) -> None:
        self.sampler = ProcessTreeSampler(interval=interval)
        self.settings = settings

    def __enter__(self) -> Footprint:
        self._t0 = time.perf_counter()
        self._self0 = psutil.Process().cpu_times()
        self._children0 = _reaped_children_cpu()
        self.sampler.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.sampler.__exit__(*exc)
        self.wall_s = time.perf_counter() - self._t0
        t = psutil.Process().cpu_times()
        self.runner_cpu_s = (t.user - self._self0.user) + (t.system - self._self0.system)
        reaped = _reaped_children_cpu() - self._children0
        # Kernels that were waited for are counted exactly by the OS; otherwise use samples.
        self.kernel_cpu_s = max(reaped, self.sampler.sampled_children_cpu_s)

    def result(self) -> dict[str, Any]:
        cpu_s = self.runner_cpu_s + self.kernel_cpu_s
        peak = self.sampler.peak_tree_rss
        return {
            "wall_s": round(self.wall_s, 3),
            "cpu_s": round(cpu_s, 3),
            "cpu_runner_s": round(self.runner_cpu_s, 3),
            "cpu_kernel_s": round(self.kernel_cpu_s, 3),
            "peak_memory_mb": round(peak / 1e6, 1),
            "peak_kernel_memory_mb": round(self.sampler.peak_children_rss / 1e6, 1),
            "memory_samples": self.sampler.samples,
            "cores_available": os.cpu_count() or 1,
            **estimate(self.wall_s, cpu_s, peak, self.settings),
        }


def _reaped_children_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _fr(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}".replace(",", "\u202f").replace(".", ",")


def to_french(fp: dict[str, Any]) -> list[str]:
    """French lines describing a footprint dict (for reports and the terminal)."""
    c = fp["constants"]
    return [
        f"Durée : {_fr(fp['wall_s'], 1)} s ; temps de calcul (CPU) : {_fr(fp['cpu_s'], 1)} s",
        f"Mémoire maximale : {_fr(fp['peak_memory_mb'], 0)} Mo",
        f"Énergie estimée : {_fr(fp['energy_kwh'] * 1000, 3)} Wh ; "
        f"émissions estimées : {_fr(fp['co2e_kg'] * 1000, 4)} gCO2e",
        f"(estimation — {fp['source']} ; PUE {_fr(c['pue'], 2)}, "
        f"{_fr(c['tdp_per_core_w'], 0)} W par cœur)",
    ]
