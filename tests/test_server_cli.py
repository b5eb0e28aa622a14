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
