"""Real processes for end-to-end tests: the WMS under gunicorn, RQ workers, a Redis of a test's own,
anything with a port."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on port {port} after {timeout}s")


@dataclass
class Running:
    """A started process; stop() ends it and its children."""

    process: subprocess.Popen
    port: int | None = None
    log: Path | None = None
    extra: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL to the process and its children (gunicorn's workers, RQ's scheduler
        process), as a crash of the machine or container would."""
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM to the process and its children; SIGKILL to whatever is left after 10 s."""
        self._signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            self.process.wait(timeout=10)
        self._signal_group(signal.SIGKILL)  # a child that outlived its parent (none should)

    def _signal_group(self, number: int) -> None:
        try:
            os.killpg(self.process.pid, number)  # the process leads its own group (start_new_session)
        except ProcessLookupError:
            pass

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log and self.log.exists() else ""


def wms_env(database_url: str, **extra: str | None) -> dict:
    env = dict(os.environ)
    env.update({"DATABASE_URL": database_url, "SECRET_KEY": "e2e-secret", "PYTHONUNBUFFERED": "1"})
    env.pop("REDIS_URL", None)
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    return env


def start(command: list[str], env: dict, log: Path, port: int | None = None, timeout: float = 30.0) -> Running:
    handle = open(log, "ab")
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )
    running = Running(process=process, port=port, log=log)
    if port is not None:
        try:
            wait_for_port(port, timeout, process)
        except Exception:
            running.stop()
            raise RuntimeError(f"{command[0]} did not start:\n{running.output()[-4000:]}") from None
    return running


def start_wms(database_url: str, log_dir: Path, *, workers: int = 3, threads: int = 1, worker_class: str = "sync",
              **env: str | None) -> Running:
    """The WMS under gunicorn, as in production (Procfile's web process: sync workers)."""
    port = free_port()
    command = [
        str(BIN / "gunicorn"), "wsgi:app", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--threads", str(threads), "--worker-class", worker_class,
        "--timeout", "60", "--graceful-timeout", "5",
    ]
    return start(command, wms_env(database_url, **env), log_dir / f"wms-{port}.log", port)


def start_worker(database_url: str, redis_url: str, log_dir: Path, name: str = "worker", **env: str | None) -> Running:
    """One `wms worker` process (Procfile's worker)."""
    command = [str(BIN / "wms"), "worker"]
    return start(command, wms_env(database_url, **{**env, "REDIS_URL": redis_url}), log_dir / f"{name}.log")


def start_redis(log_dir: Path, port: int | None = None) -> Running:
    """A redis-server of the test's own on `port` (a free one if none) that keeps nothing on disk, as
    in CI: `kill()` it to take Redis away, then `start_redis(log_dir, running.port)` brings it back
    on the same port, empty. Its URL is `redis_url(running)`."""
    port = port or free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
               "--dir", str(log_dir)]
    return start(command, dict(os.environ), log_dir / f"redis-{port}.log", port)


def redis_url(server: Running, db: int = 0) -> str:
    return f"redis://127.0.0.1:{server.port}/{db}"
