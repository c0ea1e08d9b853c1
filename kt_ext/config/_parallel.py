"""``parallel.*``: the chief/worker engine and where its workers run."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from typing import Any

from kt_ext.config._fields import boolean, integer, mapping, number
from kt_ext.config._settings import (
    CERT_ENV,
    KEY_ENV,
    LAUNCHERS,
    SLURM_CLUSTERS,
    TOKEN_ENV,
    ParallelSettings,
    RaySettings,
    SlurmSettings,
)
from kt_ext.errors import ConfigError
from kt_ext.outputs.serve import is_loopback

ROLES = ("chief", "worker")
_NAME = re.compile(r"[\w.-]+")


def parallel_settings(node: Mapping[str, Any]) -> ParallelSettings:
    """Check ``parallel.*``."""
    role = node.get("role")
    if role is not None and role not in ROLES:
        raise ConfigError("parallel.role", role, "must be null, chief or worker")
    workers = integer(node, "parallel.workers", minimum=0)
    port = integer(node, "parallel.port", minimum=0, maximum=65535)
    if role is not None and port == 0:
        raise ConfigError("parallel.port", port, f"must be set (1-65535) with parallel.role={role}")
    address = node.get("address")
    if not isinstance(address, str) or not address:
        raise ConfigError("parallel.address", address, "must be a host name or IP address")
    run_dir = node.get("run_dir")
    if role == "worker" and not (isinstance(run_dir, str) and run_dir):
        raise ConfigError(
            "parallel.run_dir", run_dir, "required with parallel.role=worker: the chief's run dir"
        )
    worker_id = node.get("worker_id")
    if worker_id is not None and (
        not isinstance(worker_id, str)
        or not re.fullmatch(r"[\w.-]+", worker_id)
        or "chief" in worker_id
    ):
        raise ConfigError(
            "parallel.worker_id", worker_id, "must be letters, digits, . _ - (and not 'chief')"
        )
    if role == "worker" and workers:
        raise ConfigError("parallel.workers", workers, "must be 0 with parallel.role=worker")
    heartbeat = number(node, "parallel.heartbeat_seconds", low=0.0, high=3600.0, low_open=True)
    grace = number(node, "parallel.grace_seconds", low=0.0, high=math.inf, low_open=True)
    if grace < 2 * heartbeat:
        raise ConfigError(
            "parallel.grace_seconds",
            grace,
            f"must be >= 2 x parallel.heartbeat_seconds ({heartbeat})",
        )
    gpu = node.get("gpu_per_worker")
    if not isinstance(gpu, bool):
        raise ConfigError("parallel.gpu_per_worker", gpu, "must be true or false")
    after = integer(node, "parallel.recycle_after_trials", minimum=0)
    above = number(node, "parallel.recycle_above_mib", low=0.0, high=math.inf)
    if (after or above) and role is None and not workers:
        workers = 1  # recycling needs a process to replace: train in one worker
    insecure = boolean(node, "parallel.insecure")
    serves = ParallelSettings(workers=workers, role=role).chief  # the rule has one owner
    if (serves or role == "worker") and not is_loopback(address) and not insecure:
        needed = [TOKEN_ENV, CERT_ENV] + ([KEY_ENV] if serves else [])
        if not all(os.environ.get(var) for var in needed):
            raise ConfigError(
                "parallel.address",
                address,
                f"is beyond loopback: needs TLS and a token ({', '.join(needed)} in the "
                "environment) or parallel.insecure=true on the command line",
            )
    launcher = node.get("launcher")
    if launcher not in LAUNCHERS:
        raise ConfigError("parallel.launcher", launcher, f"must be one of {', '.join(LAUNCHERS)}")
    if launcher != "local" and not (workers or role == "chief"):
        raise ConfigError(
            "parallel.launcher", launcher, "starts workers: set parallel.workers to how many"
        )
    return ParallelSettings(
        workers=workers,
        role=role,
        address=address,
        port=port,
        run_dir=run_dir,
        worker_id=worker_id,
        grace_seconds=grace,
        heartbeat_seconds=heartbeat,
        gpu_per_worker=gpu,
        recycle_after_trials=after,
        recycle_above_mib=above,
        insecure=insecure,
        launcher=launcher,
        slurm=_slurm(mapping(node, "parallel.slurm")),
        ray=_ray(mapping(node, "parallel.ray")),
    )


def _slurm(node: Mapping[str, Any]) -> SlurmSettings:
    """Check ``parallel.slurm.*``."""
    cluster = node.get("cluster")
    if cluster not in SLURM_CLUSTERS:
        raise ConfigError(
            "parallel.slurm.cluster", cluster, f"must be one of {', '.join(SLURM_CLUSTERS)}"
        )
    partition = node.get("partition")
    if partition is not None and not (isinstance(partition, str) and _NAME.fullmatch(partition)):
        raise ConfigError("parallel.slurm.partition", partition, "must be null or a name")
    mem = node.get("mem_gb")
    return SlurmSettings(
        cluster=cluster,
        partition=partition,
        gpus_per_worker=integer(node, "parallel.slurm.gpus_per_worker", minimum=0),
        cpus_per_worker=integer(node, "parallel.slurm.cpus_per_worker", minimum=1),
        mem_gb=None
        if mem is None
        else number(node, "parallel.slurm.mem_gb", low=0.0, high=math.inf, low_open=True),
        time_min=integer(node, "parallel.slurm.time_min", minimum=1),
    )


def _ray(node: Mapping[str, Any]) -> RaySettings:
    """Check ``parallel.ray.*``."""
    address = node.get("address")
    if address is not None and not (isinstance(address, str) and address):
        raise ConfigError(
            "parallel.ray.address", address, "must be null (a local instance), auto or an address"
        )
    return RaySettings(
        address=address,
        gpus_per_worker=number(node, "parallel.ray.gpus_per_worker", low=0.0, high=math.inf),
        cpus_per_worker=number(
            node, "parallel.ray.cpus_per_worker", low=0.0, high=math.inf, low_open=True
        ),
    )
