"""What the benches share: the WMS under gunicorn with an access log, waiting for that log to
settle, percentiles, and the floors of the window (../shared/bench/floors.sh) to report a figure
beside. Moved here from bench/inbound.py and bench/outbound.py (issue 10) so that bench/handheld.py
uses the same plumbing instead of a copy."""
from __future__ import annotations

import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOORS = ROOT.parent / "shared" / "bench" / "floors.sh"
ACCESS_FORMAT = "%(m)s %(U)s %(s)s %(D)s"  # method, path, status, microseconds in the worker


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(median, p95) of the samples, the p95 as the nearest rank."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, max(0, int(round(0.95 * len(ordered))) - 1))]


def start_server(url: str, logs: Path, workers: int, *, access_format: str = ACCESS_FORMAT,
                 extra_args: tuple[str, ...] = (), **env: str | None):
    """gunicorn wsgi:app as the Procfile runs it (sync workers), Redis off, with an access log
    (`access_format`: gunicorn's access-log atoms) and any `extra_args` for gunicorn. Returns
    (running server, access log path)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.support.processes import BIN, free_port, start, wms_env

    port = free_port()
    access = logs / f"access-{port}.log"
    command = [
        str(BIN / "gunicorn"), "wsgi:app", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
        "--worker-class", "sync", "--timeout", "60", "--graceful-timeout", "5",
        "--access-logfile", str(access), "--access-logformat", access_format, *extra_args,
    ]
    environment = wms_env(url, **{"LOGIN_RATE_LIMIT": "100000 per minute", "REDIS_URL": None, **env})
    return start(command, environment, logs / f"gunicorn-{port}.log", port), access


def settle(access: Path, wait: float = 0.5) -> int:
    """The access log's size once it has stopped growing (gunicorn logs after it answers)."""
    size = access.stat().st_size
    while True:
        time.sleep(wait)
        now = access.stat().st_size
        if now == size:
            return size
        size = now


def floors() -> dict:
    """../shared/bench/floors.sh now: {'http': req/s, 'sql': tps, 'load': the 1-minute load average,
    'text': its lines}."""
    done = subprocess.run(["bash", str(FLOORS), "--python", str(Path(sys.executable))], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    text_out = done.stdout.strip()
    http = re.search(r"floor http: .*?: ([\d.]+) req/s", text_out)
    sql = re.search(r"floor sql: .*?: ([\d.]+) tps", text_out)
    load = re.search(r"load: ([\d.]+)", text_out)
    if done.returncode != 0 or not http or not sql:
        raise SystemExit(f"floors.sh failed ({done.returncode}):\n{text_out}\n{done.stderr[-2000:]}")
    print(text_out, flush=True)
    return {"http": float(http.group(1)), "sql": float(sql.group(1)),
            "load": float(load.group(1)) if load else None, "text": text_out}
