"""``skillcert serve`` as a user starts it: a real process on a free port of 127.0.0.1, asked over HTTP, stopped
and started again on the same data folder (the log is still there); without the [server] extra it says in
Chinese how to install it (exit 2)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")

from skillcert_testutil import ROOT  # noqa: E402

EXAMPLE = ROOT / "policies" / "chongqing" / "examples" / "renewal-social-org.yaml"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving(*args: str) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "skillcert", "serve", "--port", str(port), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # until it answers (bounded: 30 s), or it has stopped
            if proc.poll() is not None:
                raise AssertionError(f"serve stopped: {proc.communicate()[1]}")
            try:
                httpx.get(f"{url}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.wait()


def test_serve_evaluates_logs_and_finds_the_log_after_a_restart(tmp_path: Path) -> None:
    from skillcert.source.loader import load_file
    from skillcert.values import to_json

    facts = json.loads(to_json(load_file(EXAMPLE).data, None))
    with serving("--data", str(tmp_path / "data")) as url:
        response = httpx.post(f"{url}/api/v1/decisions/chongqing/renewal/evaluate",
                              json={"facts": facts, "as_of": "2025-05-25"}, timeout=30)
        assert response.status_code == 200, response.text
        assert (response.json()["score"], response.json()["outcome_label"].startswith("予以延续备案")) == (94.6, True)
        assert response.headers["x-skillcert-pack-digest"].startswith("sha256:")
    assert (tmp_path / "data" / "decision-log.sqlite3").is_file()
    with serving("--data", str(tmp_path / "data")) as url:
        log = httpx.get(f"{url}/api/v1/log", timeout=30).json()
        assert log["total"] == 1 and log["entries"][0]["result"]["score"] == 94.6


def test_serve_with_a_token_refuses_requests_without_it(tmp_path: Path) -> None:
    with serving("--data", str(tmp_path), "--token", "t0ken") as url:
        assert httpx.get(f"{url}/api/v1/decisions", timeout=30).status_code == 401
        ok = httpx.get(f"{url}/api/v1/decisions", headers={"Authorization": "Bearer t0ken"}, timeout=30)
        assert ok.status_code == 200


def test_serve_off_this_machine_without_a_token_is_refused(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "skillcert", "serve", "--host", "0.0.0.0", "--data", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "--token" in proc.stderr and "Traceback" not in proc.stderr


def test_serve_on_a_port_in_use_says_so_in_chinese(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "skillcert", "serve", "--port", str(port), "--data", str(tmp_path)],
                              capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "端口已被占用" in proc.stderr and "Traceback" not in proc.stderr


def test_without_the_server_extra_serve_says_how_to_install_it() -> None:
    script = ("import sys\nsys.modules['fastapi'] = None  # as if the [server] extra were not installed\n"
              "from skillcert.cli import run\nsys.exit(run(['serve']))\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert proc.returncode == 2
    assert 'pip install "skillcert[server]"' in proc.stderr and "未安装" in proc.stderr


def test_the_readme_curl_example_answers_what_the_readme_says(tmp_path: Path) -> None:
    import re
    import shutil

    if shutil.which("curl") is None:
        pytest.skip("curl is not installed (apt-get install curl)")
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Server · 服务", 1)[1].split("\n## ", 1)[0]
    start, example = re.findall(r"```sh\n(.+?)\n```", section, re.S)[:2]
    assert "skillcert serve" in start
    with serving("--data", str(tmp_path)) as url:
        command = example.replace("http://127.0.0.1:8000", url)
        proc = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60)
    result = json.loads(proc.stdout)
    assert (result["outcome"], result["score"], result["deadlines"]["decision_due"]) == ("renew", 94.6, "2025-06-18")


def test_two_workers_share_one_log_and_lose_nothing_and_never_print_a_token(tmp_path: Path) -> None:
    """Several writer processes on one SQLite file: WAL with a busy timeout, every concurrent evaluation kept."""
    import sqlite3
    from concurrent.futures import ThreadPoolExecutor

    from skillcert.source.loader import load_file
    from skillcert.values import to_json

    facts = json.loads(to_json(load_file(EXAMPLE).data, None))
    reader, evaluator = "reader-token-5f1c", "evaluator-token-9a2e"
    tokens = tmp_path / "tokens.txt"
    tokens.write_text(f"read {reader}\nevaluate {evaluator}\n", encoding="utf-8")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "skillcert", "serve", "--port", str(port), "--workers", "2",
                             "--data", str(tmp_path / "data"), "--tokens", str(tokens)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/api/v1"
    try:
        for _ in range(600):  # until it answers (bounded: 60 s: two workers each compile the packs)
            assert proc.poll() is None, proc.communicate()[1]
            try:
                if httpx.get(f"{url}/decisions", timeout=1).status_code == 401:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)

        def post(i: int) -> int:
            with httpx.Client(timeout=60) as client:
                bearer = {"Authorization": f"Bearer {evaluator}"}
                return sum(client.post(f"{url}/decisions/chongqing/renewal/evaluate", headers=bearer,
                                       json={"facts": facts, "as_of": "2025-05-25"}).status_code == 200
                           for _ in range(10))

        with ThreadPoolExecutor(4) as pool:
            assert sum(pool.map(post, range(4))) == 40
        refused = httpx.post(f"{url}/decisions/chongqing/renewal/evaluate", json={"facts": facts},
                             headers={"Authorization": f"Bearer {reader}"}, timeout=30)
        assert refused.status_code == 403
        log = httpx.get(f"{url}/log", headers={"Authorization": f"Bearer {reader}"}, timeout=30).json()
        assert log["total"] == 40
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            out, err = proc.communicate()
    assert "2 个服务进程" in err and "Traceback" not in err
    assert reader not in out + err and evaluator not in out + err
    with sqlite3.connect(tmp_path / "data" / "decision-log.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT count(*) FROM decision_log").fetchone()[0] == 40


def test_serve_with_a_bad_tokens_file_names_the_line_and_not_the_token(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("read a-good-token-1\nsecret-token-swapped evaluate\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "skillcert", "serve", "--port", str(_free_port()),
                           "--data", str(tmp_path), "--tokens", str(tokens)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "第 2 行" in proc.stderr and "secret-token-swapped" not in proc.stderr and "Traceback" not in proc.stderr
