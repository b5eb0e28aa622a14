"""Load on `skillcert serve`: single evaluations and JSON Lines through the HTTP API, with the decision log on.

    python benchmarks/server.py                                   # 1 and 2 workers, 1 and 4 clients, 10,000 lines
    python benchmarks/server.py --workers 1 2 --clients 1 4 --requests 600 --seconds 20 --lines 10000 --repeat 3

For each number of server workers, `python -m skillcert serve --workers N` is started on a free port of 127.0.0.1
with a temporary data folder (the decision log is the default SQLite file there), and a client on this machine
(httpx, one thread per concurrent client, each with its own connection) posts single evaluations of
chongqing/renewal: *example* (the bundled renewal-social-org.yaml, every request the same) and *mix* (the
Chongqing pack's own test cases that evaluate to a result, in turn). Each run is bounded both in count
(``--requests``) and in time (``--seconds``), after a short warm-up. Then one request of ``--lines`` JSON Lines
(the mix, in turn) to evaluate-many, read as it streams. The log's entry count is read before and after: every
answered evaluation must be in it ("lost" is the difference). Requests/s, p50/p99 latency and errors (anything
but the expected HTTP 200) are printed; with ``--repeat`` the median run by requests/s is shown. Nothing is
asserted: it measures. Every server is started first and the runs interleaved (each repetition runs every row,
the servers in turn), so that the rows compared share the machine's load alike.

The client shares the machine with the server: on 2 cores, with 2 workers the client's own CPU competes with
them, so the figures are a floor for what a separate client would see.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
DECISION = "chongqing/renewal"
WARM_UP = 20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def bodies() -> tuple[bytes, list[bytes]]:
    """The example's request body, and the pack's own test cases that evaluate to a result (as request bodies)."""
    import skillcert
    from skillcert.analysis.tester import load_cases
    from skillcert.source.loader import load_file
    from skillcert.values import to_json

    library = skillcert.load(ROOT / "policies")
    example = load_file(ROOT / "policies" / "chongqing" / "examples" / "renewal-social-org.yaml").data
    one = to_json({"facts": example, "as_of": "2025-05-25"}, None).encode()
    mix = []
    for case in load_cases(ROOT / "policies" / "chongqing" / "tests" / "renewal.yaml")[0]:
        if case.want_error or case.decision != DECISION:
            continue
        as_of = case.as_of or library.decision(DECISION).valid_from
        try:
            library.evaluate(DECISION, case.facts, as_of=as_of, allow_out_of_period=case.allow_out_of_period)
        except skillcert.SkillcertError:
            continue
        mix.append(to_json({"facts": case.facts, "as_of": as_of,
                            "allow_out_of_period": case.allow_out_of_period}, None).encode())
    return one, mix


class Server:
    """`skillcert serve` in its own process on a free port, with a fresh data folder."""

    def __init__(self, workers: int, data: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/v1"
        self.proc = subprocess.Popen([sys.executable, "-m", "skillcert", "serve", "--port", str(self.port),
                                      "--workers", str(workers), "--data", str(data)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"serve stopped: {self.proc.communicate()[1]}")
            try:
                if httpx.get(f"{self.url}/decisions", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit("serve did not answer within 120 s")

    def log_total(self) -> int:
        total: int = httpx.get(f"{self.url}/log", params={"limit": 1}, timeout=60).json()["total"]
        return total

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def load(url: str, payloads: list[bytes], clients: int, requests: int, seconds: float) -> dict[str, Any]:
    """``clients`` threads posting in turn until ``requests`` were sent in all or ``seconds`` have passed."""
    target = f"{url}/decisions/{DECISION}/evaluate"
    lock = threading.Lock()
    issued = [0]
    latencies: list[float] = []
    errors: list[str] = []
    warm_ok = [0]
    clock: dict[str, float] = {}
    go = threading.Event()

    def client(k: int) -> None:
        with httpx.Client(timeout=60, headers={"content-type": "application/json"}) as c:
            for i in range(WARM_UP // clients + 1):  # a connection made and every code path taken before timing
                ok = c.post(target, content=payloads[(k + i) % len(payloads)]).status_code == 200
                with lock:
                    warm_ok[0] += ok
            barrier.wait()
            go.wait()
            while True:
                with lock:
                    if issued[0] >= requests or time.perf_counter() >= clock["stop"]:
                        return
                    n = issued[0]
                    issued[0] += 1
                t0 = time.perf_counter()
                try:
                    r = c.post(target, content=payloads[n % len(payloads)])
                    status = str(r.status_code) if r.status_code != 200 else ""
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                took = time.perf_counter() - t0
                with lock:
                    latencies.append(took)
                    if status:
                        errors.append(status)

    barrier = threading.Barrier(clients + 1)
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    clock["stop"] = start + seconds
    go.set()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    latencies.sort()
    return {"requests": len(latencies), "wall": wall, "rps": len(latencies) / wall,
            "p50": latencies[len(latencies) // 2] * 1000, "p99": latencies[int(len(latencies) * 0.99)] * 1000,
            "errors": len(errors), "answered": len(latencies) - len(errors) + warm_ok[0],
            "kinds": sorted(set(errors))}


def evaluate_many(url: str, payloads: list[bytes], lines: int) -> dict[str, Any]:
    facts = [json.dumps(json.loads(p)["facts"], ensure_ascii=False).encode() for p in payloads]
    as_of = json.loads(payloads[0])["as_of"]
    body = b"\n".join(facts[i % len(facts)] for i in range(lines)) + b"\n"
    results = errors = 0
    start = time.perf_counter()
    with httpx.stream("POST", f"{url}/decisions/{DECISION}/evaluate-many", params={"as_of": as_of},
                      content=body, headers={"content-type": "application/x-ndjson"}, timeout=600) as r:
        for line in r.iter_lines():
            if line.strip():
                if '"result":' in line[:40]:
                    results += 1
                else:
                    errors += 1
    wall = time.perf_counter() - start
    return {"lines": lines, "wall": wall, "rows_s": lines / wall, "results": results, "errors": errors,
            "mb": len(body) / 1e6}


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load1 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"machine: {platform.machine()} {model}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}; load average {load1:.1f} at start")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="server worker processes")
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 4], help="concurrent clients")
    ap.add_argument("--requests", type=int, default=600, help="at most this many requests per run")
    ap.add_argument("--seconds", type=float, default=20.0, help="at most this long per run")
    ap.add_argument("--lines", type=int, default=10_000, help="JSON Lines for evaluate-many (0: skip)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each row; the median by requests/s is shown")
    args = ap.parse_args()

    example, mix = bodies()
    print(machine())
    print(f"single evaluations of {DECISION}, decision log on (SQLite, WAL); each run at most {args.requests} "
          f"requests or {args.seconds:g} s; mix = {len(mix)} of the pack's test cases in turn")
    print(f"{'workers':>7} {'clients':>7} {'cases':>8} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'errors':>6} {'lost':>4}   (errors and lost: summed over every run)")
    # Every server is started first and the runs interleaved (each repetition runs every row once, the servers in
    # turn), so that the rows of one table share the machine's load as equally as a shared machine allows.
    with contextlib.ExitStack() as stack:
        servers = {}
        for workers in args.workers:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="skillcert-bench-serve-"))
            servers[workers] = Server(workers, Path(tmp) / "data")
            stack.callback(servers[workers].stop)
        rows = [(w, c, name) for c in args.clients for name in ("example", "mix") for w in args.workers]
        runs: dict[tuple[int, int, str], list[dict[str, Any]]] = {row: [] for row in rows}
        many: dict[int, list[dict[str, Any]]] = {w: [] for w in args.workers}
        for _ in range(args.repeat):
            for workers, clients, name in rows:
                server = servers[workers]
                before = server.log_total()
                run = load(server.url, [example] if name == "example" else mix, clients, args.requests, args.seconds)
                run["lost"] = before + run["answered"] - server.log_total()
                runs[(workers, clients, name)].append(run)
            for workers in args.workers if args.lines else ():
                server = servers[workers]
                before = server.log_total()
                m = evaluate_many(server.url, mix, args.lines)
                m["lost"] = before + m["results"] - server.log_total()
                many[workers].append(m)
        for (workers, clients, name), found in sorted(runs.items()):
            r = sorted(found, key=lambda r: r["rps"])[len(found) // 2]
            kinds = f"  ({', '.join(r['kinds'])})" if r["kinds"] else ""
            errors, lost = sum(f["errors"] for f in found), sum(f["lost"] for f in found)
            print(f"{workers:7} {clients:7} {name:>8} {r['requests']:8} {r['rps']:7.0f} {r['p50']:7.1f} "
                  f"{r['p99']:7.1f} {errors:6} {lost:4}{kinds}")
    many_rows = [(w, sorted(ms, key=lambda m: m["rows_s"])[len(ms) // 2]) for w, ms in many.items() if ms]
    if many_rows:
        print("\nevaluate-many (JSON Lines, one request, the mix in turn, logged in batches of 200):")
        print(f"{'workers':>7} {'lines':>7} {'MB':>5} {'wall s':>7} {'rows/s':>7} {'errors':>6} {'lost':>4}")
        for workers, m in many_rows:
            print(f"{workers:7} {m['lines']:7,} {m['mb']:5.1f} {m['wall']:7.1f} {m['rows_s']:7.0f} {m['errors']:6} "
                  f"{m['lost']:4}")


if __name__ == "__main__":
    main()
