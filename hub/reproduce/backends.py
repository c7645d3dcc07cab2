"""Where an analysis runs: the same backends as the demonstrators.

- local (``BIBLIO_SPAWNER=local``): ``local_command`` + ``local_limits``: a subprocess of the
  service in its own session, which sets itself an address-space limit (``RLIMIT_AS``,
  inherited by the notebook's kernel), a CPU-time limit (``RLIMIT_CPU``), and a wall-clock
  limit enforced by the scheduler;
- docker: ``docker_job_spec``: the keyword arguments of ``docker.containers.run`` for one
  container per analysis, from the demonstrator image, without network, with a read-only root
  filesystem (the code of the image cannot change), the upload mounted read-only and the
  job's folder the only writable place, memory, CPU and process limits;
- kubernetes: ``kubernetes_job_manifest`` (a ``batch/v1`` Job, deadline = time limit, no
  retry, no service-account token, read-only root) and ``kubernetes_network_policy`` (no
  traffic in or out of analysis pods).

These functions only build specifications (unit-tested without an engine);
``hub.reproduce.runners`` runs them.
"""

from __future__ import annotations

import os
import resource
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hub.config.settings import Settings
from hub.spawners.docker_config import IMAGE_REPO_ROOT

CONTAINER_JOB_DIR = "/job"
CONTAINER_DATA_DIR = "/donnees"
JOB_LABEL = "biblio-ia.reproduce.job"
USER_LABEL = "biblio-ia.reproduce.user"
K8S_APP = "biblio-ia-analyse"


def memory_bytes(spec: str) -> int:
    """``4G`` → bytes (the notation of ``BIBLIO_REPRO_MEM_LIMIT``)."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    spec = spec.upper().removesuffix("B")
    factor = units.get(spec[-1:], 1)
    return int(float(spec.rstrip("KMGT")) * factor)


def worker_args(job_dir: str, data: str) -> list[str]:
    return ["-m", "hub.reproduce.worker", "run", job_dir, "--data", data]


def local_command(job_dir: Path, data: Path, python: str = sys.executable) -> list[str]:
    """The worker's command line in local mode (absolute paths)."""
    return [python, *worker_args(str(job_dir), str(data))]


def cpu_seconds(s: Settings) -> int:
    """CPU time allowed to one analysis: its cores × its wall-clock limit."""
    return max(1, int(s.repro_cpu_limit * s.repro_time_limit))


def local_limits(s: Settings) -> Callable[[], None]:
    """Memory and CPU-time limits (soft = hard) that the worker applies to itself first
    thing (not a ``preexec_fn``: forking a threaded service with one is unsafe); the
    notebook's kernel, its child, inherits them."""
    mem = memory_bytes(s.repro_mem_limit)
    cpu = cpu_seconds(s)

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        os.nice(5)

    return apply


def worker_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of a local worker: the service's, without its hub credentials."""
    env = dict(os.environ if base is None else base)
    for key in list(env):
        if key.startswith("JUPYTERHUB_") or key in ("JPY_API_TOKEN",):
            env.pop(key)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def container_environment(s: Settings, spawner: str) -> dict[str, str]:
    """Environment inside an analysis container or pod (paths inside the image). Its
    ``BIBLIO_SPAWNER`` tells the worker that the engine enforces the limits (it sets none of
    its own, unlike a local worker)."""
    return {
        "BIBLIO_SPAWNER": spawner,
        "BIBLIO_REPO_ROOT": IMAGE_REPO_ROOT,
        "BIBLIO_MIN_USABLE_SHARE": str(s.min_usable_share),
        "BIBLIO_TDP_PER_CORE_W": str(s.tdp_per_core_w),
        "BIBLIO_PUE": str(s.pue),
        "BIBLIO_CARBON_INTENSITY": str(s.carbon_intensity),
        "HOME": "/tmp",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": IMAGE_REPO_ROOT,
    }


def docker_job_spec(
    s: Settings, *, job_id: str, user: str, job_dir: Path, data: Path
) -> dict[str, Any]:
    """Keyword arguments of ``docker.from_env().containers.run`` for one analysis."""
    data_in = f"{CONTAINER_DATA_DIR}/{data.name}"
    return {
        "image": s.docker_image,
        "command": ["python", *worker_args(CONTAINER_JOB_DIR, data_in)],
        "name": f"{s.docker_volume_prefix}-analyse-{job_id}",
        "detach": True,
        "network_mode": "none",
        "read_only": True,
        "tmpfs": {"/tmp": "rw,size=512m"},
        "working_dir": CONTAINER_JOB_DIR,
        "volumes": {
            str(job_dir): {"bind": CONTAINER_JOB_DIR, "mode": "rw"},
            str(data): {"bind": data_in, "mode": "ro"},
        },
        "environment": container_environment(s, "docker"),
        "mem_limit": s.repro_mem_limit.lower(),
        "memswap_limit": s.repro_mem_limit.lower(),
        "nano_cpus": int(s.repro_cpu_limit * 1e9),
        "pids_limit": s.docker_pids_limit,
        "security_opt": ["no-new-privileges"],
        "cap_drop": ["ALL"],
        "labels": {JOB_LABEL: job_id, USER_LABEL: user},
        "auto_remove": False,
    }


def kubernetes_job_manifest(
    s: Settings,
    *,
    job_id: str,
    user_key: str,
    claim: str,
    job_path: str,
    data_path: str,
    namespace: str = "default",
) -> dict[str, Any]:
    """A ``batch/v1`` Job for one analysis.

    ``claim`` is the volume of the reproduce service; ``job_path`` and ``data_path`` are the
    job's folder and the upload inside it (``users/<key>/jobs/<id>``,
    ``users/<key>/uploads/<file>``), mounted read-write and read-only.
    """
    data_name = Path(data_path).name
    data_in = f"{CONTAINER_DATA_DIR}/{data_name}"
    labels = {"app": K8S_APP, "biblio-ia/job": job_id, "biblio-ia/user": user_key}
    mem = s.repro_mem_limit + ("i" if s.repro_mem_limit[-1] in "KMGT" else "")
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": f"analyse-{job_id}", "namespace": namespace, "labels": labels},
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": s.repro_time_limit,
            "ttlSecondsAfterFinished": 3600,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 1000,
                        "fsGroup": 100,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": "analyse",
                            "image": s.k8s_image,
                            "imagePullPolicy": s.k8s_pull_policy,
                            "command": ["python", *worker_args(CONTAINER_JOB_DIR, data_in)],
                            "workingDir": CONTAINER_JOB_DIR,
                            "env": [
                                {"name": k, "value": v}
                                for k, v in sorted(container_environment(s, "kubernetes").items())
                            ],
                            "resources": {
                                "limits": {"memory": mem, "cpu": str(s.repro_cpu_limit)},
                                "requests": {"memory": mem, "cpu": str(s.repro_cpu_limit)},
                            },
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]},
                            },
                            "volumeMounts": [
                                {
                                    "name": "travail",
                                    "mountPath": CONTAINER_JOB_DIR,
                                    "subPath": job_path,
                                },
                                {
                                    "name": "travail",
                                    "mountPath": data_in,
                                    "subPath": data_path,
                                    "readOnly": True,
                                },
                                {"name": "tmp", "mountPath": "/tmp"},
                            ],  # fmt: skip
                        }
                    ],
                    "volumes": [
                        {"name": "travail", "persistentVolumeClaim": {"claimName": claim}},
                        {"name": "tmp", "emptyDir": {"sizeLimit": "512Mi"}},
                    ],
                },
            },
        },
    }


def kubernetes_network_policy(namespace: str = "default") -> dict[str, Any]:
    """No traffic in or out of the analysis pods (they read and write files only)."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "biblio-ia-analyses-sans-reseau", "namespace": namespace},
        "spec": {
            "podSelector": {"matchLabels": {"app": K8S_APP}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [],
            "egress": [],
        },
    }
