import subprocess
import sys

import pytest

from hub.config.settings import Settings
from hub.runner.footprint import Footprint, estimate, to_french


def test_green_algorithms_formula():
    # One hour, one core fully used, 1 GB: (12 W + 0.3725 W) × 1 h × PUE 1.67.
    fp = estimate(wall_s=3600, cpu_s=3600, peak_memory_bytes=10**9)
    assert fp["energy_kwh"] == pytest.approx((12 + 0.3725) * 1.67 / 1000)
    assert fp["co2e_kg"] == pytest.approx(fp["energy_kwh"] * 0.052)
    assert fp["is_estimate"] is True and "Green Algorithms" in fp["source"]


def test_constants_can_be_overridden():
    settings = Settings.from_env({"BIBLIO_CARBON_INTENSITY": "0.4", "BIBLIO_PUE": "1.0"})
    fp = estimate(wall_s=0, cpu_s=3600, peak_memory_bytes=0, settings=settings)
    assert fp["energy_kwh"] == pytest.approx(0.012)
    assert fp["co2e_kg"] == pytest.approx(0.012 * 0.4)


def test_child_process_cpu_and_memory_are_measured():
    code = (
        "import time\n"
        "block = bytearray(120 * 1024 * 1024)\n"
        "for i in range(0, len(block), 4096): block[i] = 1\n"
        "t = time.process_time()\n"
        "while time.process_time() - t < 0.3: pass\n"
        "time.sleep(0.3)\n"
    )
    with Footprint(interval=0.05) as fp:
        subprocess.run([sys.executable, "-c", code], check=True)
    result = fp.result()
    assert result["peak_kernel_memory_mb"] >= 120
    assert result["peak_memory_mb"] >= result["peak_kernel_memory_mb"]
    assert result["cpu_kernel_s"] >= 0.3
    assert result["wall_s"] >= 0.6
    lines = to_french(result)
    assert lines[0].startswith("Durée :") and "estimation" in lines[-1]
