"""A Dask client: a LocalCluster on this machine's cores, or a running scheduler's address."""

from __future__ import annotations

import contextlib
import logging
import os
import re
from typing import Callable, Iterator

from core.errors import DataValidationError

CONNECT_TIMEOUT_S = 5.0
_ADDRESS = re.compile(r"^(tcp|tls|inproc|ucx|ws|wss)://[^\s/:]+(:\d+)?$")


def check_scheduler_address(address: str) -> str:
    """``tcp://HOST:PORT`` (or tls://...) or a clear error saying what was expected."""
    address = str(address).strip()
    if not _ADDRESS.match(address):
        raise DataValidationError(
            f"Expected a Dask scheduler address like tcp://10.0.0.5:8786; got '{address}'. "
            "Fix: copy the address that `dask scheduler` prints ('Scheduler at: tcp://...'), "
            "or leave out --scheduler to run on this machine's cores.")
    return address


def _connect(address: str, timeout: float):
    from distributed import Client

    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise DataValidationError(
            f"Could not reach the Dask scheduler at {address} within {timeout:g} s "
            f"({type(exc).__name__}). Expected a running scheduler: start one with `dask scheduler` and "
            "workers with `dask worker ADDRESS`. Fix: check the host and port (and that the firewall lets "
            "them through), or leave out --scheduler to run on this machine's cores.") from exc


@contextlib.contextmanager
def open_client(scheduler: str | None = None, *, workers: int | None = None,
                timeout: float = CONNECT_TIMEOUT_S, say: Callable[[str], None] | None = None) -> Iterator:
    """A ``distributed.Client`` for the run; the LocalCluster it may start is closed afterwards.

    Without ``scheduler`` a LocalCluster of ``workers`` processes (default: this machine's
    cores), one thread each, listening on 127.0.0.1 only. ``say`` gets the dashboard address.
    """
    if scheduler:
        client = _connect(check_scheduler_address(scheduler), timeout)
        cluster = None
    else:
        from distributed import Client, LocalCluster

        n = int(workers or os.cpu_count() or 1)
        if n < 1:
            raise DataValidationError(f"Expected --workers of 1 or more; got {n}. Fix: e.g. --workers 2.")
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=dashboard_address(), silence_logs=logging.ERROR)
        client = Client(cluster, set_as_default=False)
    try:
        if say is not None:
            say(describe_client(client))
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def dashboard_address() -> str:
    """The dashboard on loopback only, on a free port (its charts need bokeh installed)."""
    return "127.0.0.1:0"


def describe_client(client) -> str:
    """One line: where the scheduler is, how many workers, and the dashboard address."""
    info = client.scheduler_info()
    workers = info.get("workers", {})
    threads = sum(int(w.get("nthreads", 1)) for w in workers.values())
    link = getattr(client, "dashboard_link", None) if info.get("services", {}).get("dashboard") else None
    import importlib.util

    charts = "" if importlib.util.find_spec("bokeh") else " (its charts need `pip install bokeh`)"
    dash = f"dashboard {link}{charts}" if link else "no dashboard"
    return f"Dask scheduler {client.scheduler.address}: {len(workers)} worker(s), {threads} thread(s); {dash}"
