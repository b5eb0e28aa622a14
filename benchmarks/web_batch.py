"""How a batch job of the web workspace weighs on the other users: the latency of single API evaluations while a
batch runs, with the job in a process of its own (what the server does) and, for comparison, in a thread of the
server's process (what it does not do), against no batch at all.

    python benchmarks/web_batch.py                       # 20,000 rows, 300 requests, 3 repetitions
    python benchmarks/web_batch.py --rows 20000 --requests 300 --repeat 3

The server's app runs on uvicorn in a thread of this process on 127.0.0.1 (a free port), with its decision log and
data folder in a temporary folder; a client (httpx, one connection) posts the bundled Chongqing example to
``/api/v1/…/evaluate`` one request after the other, ``--requests`` of them, while a CSV of ``--rows`` rows of
shanxi/evaluation is evaluated: *none* (no batch), *process* (uploaded to ``/batch``: the job's own process, every
row logged), *thread* (the same ``run_batch`` with the same per-row logging, in a thread of the server's process).
Printed: p50 and p99 latency of the single evaluations, and the batch's rows a second. Nothing is asserted; on a
shared 2-core machine compare the rows of one run, and the median of the repetitions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    import skillcert
    from skillcert.audit import new_event
    from skillcert.audit.store import LogStore
    from skillcert.server import Settings, create_app
    from skillcert.source.loader import load_file
    from skillcert.source.resources import policies_dir
    from skillcert.tabular.batch import run_batch
    from skillcert.values import to_json
    from skillcert_testutil import write_csv
    from test_batch import AS_OF, HEADER, ROWS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    library = skillcert.load()
    facts = load_file(Path(policies_dir()) / "chongqing" / "examples" / "renewal-social-org.yaml").data
    body = json.loads(to_json({"facts": facts, "as_of": "2025-05-25"}, None))
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        source = write_csv(data / "rows.csv", HEADER, [ROWS[n % 3] for n in range(args.rows)])
        store = LogStore.sqlite(data / "decision-log.sqlite3")
        app = create_app(library, store, Settings(data=str(data), max_upload=1 << 30))
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
        client = httpx.Client(base_url=url, timeout=120)

        def singles() -> list[float]:
            took = []
            for _ in range(args.requests):
                start = time.perf_counter()
                answer = client.post("/api/v1/decisions/chongqing/renewal/evaluate", json=body)
                took.append(time.perf_counter() - start)
                assert answer.status_code == 200, answer.text
            return took

        def in_process() -> None:
            page = client.get("/batch")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert token is not None
            answer = client.post("/batch", data={"csrf_token": token.group(1), "decision": "shanxi/evaluation",
                                                 "as_of": AS_OF}, files={"file": ("rows.csv", source.read_bytes())})
            where = answer.headers["location"]
            while "已评估" not in client.get(f"{where}/status").text:  # wait for the job's rows to start
                time.sleep(0.05)

        def in_thread() -> threading.Thread:
            def work() -> None:
                pending: list[Any] = []

                def on_row(carried: Any, facts: Any, result: Any, error: Any) -> None:
                    if result is not None:
                        pending.append(new_event(decision="shanxi/evaluation", as_of=dt.date.fromisoformat(AS_OF),
                                                 source="batch", pack_version=result.pack_version,
                                                 pack_digest=result.pack_digest, outcome=result.outcome,
                                                 score=result.score, facts=facts, result=result.to_json(),
                                                 ids={k: str(v) for k, v in carried.items()}))
                        if len(pending) >= 200:
                            store.append(pending)
                            pending.clear()
                run_batch(library, "shanxi/evaluation", source, data / "thread.xlsx",
                          as_of=dt.date.fromisoformat(AS_OF), progress=False, stderr=io.StringIO(),
                          on_row=on_row)
                store.append(pending)
            thread = threading.Thread(target=work)
            thread.start()
            return thread

        def idle() -> None:
            while any(j["status"] in ("queued", "running") for j in app.state.batches.jobs()):
                time.sleep(0.2)

        def during(mode: str) -> list[float]:
            """Single evaluations while the batch of ``mode`` runs; returns when that batch is over too."""
            if mode == "none":
                return singles()
            if mode == "process":
                in_process()
                took = singles()
                idle()
                return took
            thread = in_thread()
            took = singles()
            thread.join()
            return took

        client.get("/batch")
        singles()  # warm-up
        modes = ["none", "process", "thread"]
        results: dict[str, list[tuple[float, float]]] = {mode: [] for mode in modes}
        for repetition in range(args.repeat):
            for mode in modes[repetition % 3:] + modes[:repetition % 3]:  # each first in turn: the load alike
                took = during(mode)
                results[mode].append((percentile(took, 0.5), percentile(took, 0.99)))
        jobs = [j for j in app.state.batches.jobs() if j["status"] == "done"]
        rates = []
        for j in jobs:
            seconds = (dt.datetime.fromisoformat(j["finished"]) - dt.datetime.fromisoformat(j["started"]))
            rates.append(j["rows_done"] / seconds.total_seconds())
        print(f"{args.rows} rows, {args.requests} single evaluations during each, median of {args.repeat}")
        for name, runs in results.items():
            p50 = statistics.median(r[0] for r in runs) * 1000
            p99 = statistics.median(r[1] for r in runs) * 1000
            print(f"  batch {name:8s} single evaluation p50 {p50:7.1f} ms  p99 {p99:7.1f} ms")
        if rates:
            print(f"  batch in its own process: {statistics.median(rates):.0f} rows/s (every row logged)")
        server.should_exit = True
        store.close()


if __name__ == "__main__":
    main()
