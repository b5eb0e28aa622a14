"""The workspace's batch page over plain HTTP (Starlette's TestClient, a real SQLite log and data folder in tmp_path,
jobs run in their own process): CSV and XLSX uploads give the very workbook ``skillcert batch`` writes, rows with
errors are listed on the job's page, progress is polled, bad uploads are answered in Chinese with nothing kept,
the size limit, cross-site and read-only requests refused, and a new server on the same data folder still shows
the finished job, serves its workbook, finds its rows in the log, and shows an interrupted job as such."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from skillcert_webclient import TestClient  # first: skips this module without the [server] extra

# isort: split
import skillcert
from skillcert.audit.store import LogQuery, LogStore
from skillcert.server import Settings, create_app
from skillcert.server.batch_jobs import ERRORS_SHOWN, job_lock, new_job_id, write_state
from skillcert.server.pages import CSRF_COOKIE, CSRF_FIELD
from skillcert_testutil import run_cli, write_csv, write_xlsx
from test_batch import AS_OF, HEADER, ROWS

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

LIBRARY = skillcert.load()
DECISION = "shanxi/evaluation"
WAIT_SECONDS = 180  # a bound on a stuck job on a busy machine, not a measurement


def workspace(data: Path, **given: Any) -> tuple[Any, LogStore]:
    store = LogStore.sqlite(data / "decision-log.sqlite3")
    return create_app(LIBRARY, store, Settings(data=str(data), **given)), store


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


@pytest.fixture
def client(data: Path) -> Iterator[TestClient]:
    app, store = workspace(data)
    with TestClient(app) as c:
        yield c
    store.close()


def token_of(client: TestClient, **headers: str) -> str:
    page = client.get("/batch", headers=headers)
    assert page.status_code == 200
    found = re.search(rf'name="{CSRF_FIELD}" value="([^"]+)"', page.text)
    assert found is not None and found.group(1) == client.cookies.get(CSRF_COOKIE)
    return found.group(1)


def upload(client: TestClient, name: str, content: bytes, decision: str = DECISION, as_of: str = AS_OF,
           **headers: str) -> Any:
    fields = {CSRF_FIELD: token_of(client, **headers), "decision": decision, "as_of": as_of}
    return client.post("/batch", data=fields, files={"file": (name, content, "application/octet-stream")},
                       headers=headers, follow_redirects=False)


def finished(client: TestClient, name: str, content: bytes) -> tuple[str, str]:
    """Upload, then poll the status fragment as the page does until the job is over: (job page, fragment)."""
    answer = upload(client, name, content)
    assert answer.status_code == 303, answer.text
    where = answer.headers["location"]
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        fragment = client.get(f"{where}/status")
        assert fragment.status_code == 200
        if "hx-trigger" not in fragment.text:
            return where, fragment.text
        assert time.monotonic() < deadline, fragment.text
        time.sleep(0.1)


def csv_bytes(tmp_path: Path, header: list[Any] = HEADER, rows: list[list[Any]] = ROWS) -> bytes:
    return write_csv(tmp_path / "in.csv", header, rows).read_bytes()


def xlsx_bytes(header: list[Any] = HEADER, rows: list[list[Any]] = ROWS) -> bytes:
    return write_xlsx(io.BytesIO(), header, rows).getvalue()  # type: ignore[no-any-return]


def sheets(content: bytes) -> dict[str, list[tuple[Any, ...]]]:
    wb = openpyxl.load_workbook(io.BytesIO(content))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


def job_folders(data: Path) -> list[Path]:
    root = data / "batches"
    return sorted(root.iterdir()) if root.is_dir() else []


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_an_upload_gives_the_workbook_skillcert_batch_writes(client: TestClient, tmp_path: Path, suffix: str) -> None:
    content = csv_bytes(tmp_path) if suffix == ".csv" else xlsx_bytes()
    given = tmp_path / f"given{suffix}"
    given.write_bytes(content)
    code, _, err = run_cli(["batch", DECISION, str(given), "-o", str(tmp_path / "cli.xlsx"), "--as-of", AS_OF])
    assert code == 1, err  # one row has an error
    where, fragment = finished(client, f"机构名单{suffix}", content)
    assert "已完成" in fragment
    download = client.get(f"{where}/result.xlsx")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheet")
    assert "filename*=UTF-8''%E6%9C%BA%E6%9E%84%E5%90%8D%E5%8D%95-" in download.headers["content-disposition"]
    assert sheets(download.content) == sheets((tmp_path / "cli.xlsx").read_bytes())
    assert list(sheets(download.content)) == ["结果", "汇总"]


def test_the_job_page_counts_outcomes_and_lists_the_rows_with_errors(client: TestClient, tmp_path: Path) -> None:
    where, _ = finished(client, "名单.csv", csv_bytes(tmp_path))
    page = client.get(where)
    assert page.status_code == 200
    summary = page.text[page.text.index('id="summary"'):]
    label = LIBRARY.decision(DECISION).outcomes["terminate"].label
    assert f"<td>{label} <code>terminate</code></td><td>2</td>" in summary
    assert re.search(r'id="error-count">1<', summary)
    errors = page.text[page.text.index('id="error-rows"'):]
    assert "<td>5</td><td>机构编号:SX-004</td>" in errors  # the result sheet's row 5: the fourth row under the header
    assert "facts-invalid: registered_on(公布备案资质之日):不存在的日期" in errors
    assert "按 UTF-8 编码读取" in page.text and "名单.csv" in page.text  # the reading notes, by the file's own name
    assert "input.csv" not in page.text and str(tmp_path) not in page.text
    assert "文件不超过 50 MiB" in client.get("/batch").text


def test_only_the_first_rows_with_errors_are_listed_with_a_note(client: TestClient, tmp_path: Path) -> None:
    bad = ["SX-9", "social_org", "city", "2020-13-01", "[]", "2023-09-15", "pass", ""]
    rows = [[f"SX-{n}", *bad[1:]] for n in range(ERRORS_SHOWN + 5)]
    where, fragment = finished(client, "many.csv", csv_bytes(tmp_path, HEADER, rows))
    assert fragment.count("facts-invalid") == ERRORS_SHOWN
    assert f"只列出前 {ERRORS_SHOWN} 行,另有 5 行有错误;结果工作簿中每一行都有其错误说明" in fragment


def test_jobs_run_one_at_a_time_in_the_order_they_came(client: TestClient, data: Path, tmp_path: Path) -> None:
    rows = [ROWS[n % 3] for n in range(3_000)]
    first = upload(client, "一.csv", csv_bytes(tmp_path, HEADER, rows)).headers["location"]
    second = upload(client, "二.csv", csv_bytes(tmp_path, HEADER, rows)).headers["location"]
    deadline = time.monotonic() + WAIT_SECONDS
    while "hx-trigger" in client.get(f"{second}/status").text:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    states = [json.loads((data / "batches" / where.rsplit("/", 1)[1] / "state.json").read_text())
              for where in (first, second)]
    assert [s["status"] for s in states] == ["done", "done"]
    assert states[0]["finished"] <= states[1]["started"]  # the second waited for the first
    assert "已完成" in client.get(first).text


def test_each_evaluated_row_is_logged_once_with_its_ids_and_the_full_result(client: TestClient, data: Path,
                                                                            tmp_path: Path) -> None:
    where, _ = finished(client, "名单.csv", csv_bytes(tmp_path))
    job_id = where.rsplit("/", 1)[1]
    store = client.app.state.store  # type: ignore[attr-defined]
    found = store.search(LogQuery(text=job_id))
    assert found.total == 3  # the row with an error is not a decision
    assert {e.source for e in found.entries} == {"batch"}
    assert sorted(e.ids["机构编号"] for e in found.entries) == ["SX-001", "SX-002", "SX-003"]
    event = store.search(LogQuery(text="SX-002")).entries[0]
    assert event.ids["batch_job"] == job_id and event.outcome == "suspend"
    again = LIBRARY.evaluate(DECISION, event.facts, as_of=dt.date.fromisoformat(AS_OF))
    assert event.result == again.to_json(None)  # the result a single case gets (compact), not the batch's shorter one
    assert (event.pack_version, event.pack_digest) == (again.pack_version, again.pack_digest)
    assert "SX-002" in client.get("/log", params={"q": "SX-002"}).text


@pytest.mark.parametrize(("name", "content", "said"), [
    ("名单.xlsx", b"not a workbook", "xlsx-invalid: 输入文件 名单.xlsx 不是有效的 XLSX 文件"),
    ("名单.csv", b"foo,bar\n1,2\n", "no-input-columns: 输入文件 名单.csv 中没有一列是决定 shanxi/evaluation 的输入"),
])
def test_a_file_the_command_line_refuses_is_answered_with_its_message(client: TestClient, name: str,
                                                                       content: bytes, said: str) -> None:
    where, fragment = finished(client, name, content)
    assert "未能完成" in fragment and said in fragment
    assert "Traceback" not in fragment and "result.xlsx" not in fragment
    assert client.get(f"{where}/result.xlsx").status_code == 404


def test_an_empty_file_is_a_job_of_no_rows_with_the_command_lines_note(client: TestClient) -> None:
    where, fragment = finished(client, "空.csv", b"")
    assert "已完成" in fragment and "空.csv:没有任何行" in fragment
    assert sheets(client.get(f"{where}/result.xlsx").content)["结果"][1:] == []


@pytest.mark.parametrize(("fields", "name", "said"), [
    ({}, "名单.txt", "只能上传 CSV(.csv)或 XLSX(.xlsx)文件,收到 &#39;名单.txt&#39;"),
    ({}, "名单.xls", "旧版 .xls 请在表格软件中另存为 XLSX 或 UTF-8 CSV"),
    ({"decision": "shanxi/nothing"}, "名单.csv", "没有这个决定:shanxi/nothing"),
    ({"as_of": "2023-13-01"}, "名单.csv", "评估日应写作 YYYY-MM-DD,收到 &#39;2023-13-01&#39;"),
    ({"as_of": "1999-01-01"}, "名单.csv", "1999-01-01"),
])
def test_a_bad_form_is_answered_on_the_form_and_nothing_is_kept(client: TestClient, data: Path, tmp_path: Path,
                                                                fields: dict[str, str], name: str, said: str) -> None:
    fields = {CSRF_FIELD: token_of(client), "decision": DECISION, "as_of": AS_OF, **fields}
    answer = client.post("/batch", data=fields, files={"file": (name, csv_bytes(tmp_path), "text/csv")})
    assert answer.status_code == 422
    assert said in answer.text and 'role="alert"' in answer.text
    assert "Traceback" not in answer.text
    assert job_folders(data) == []
    assert f'value="{fields["as_of"]}"' in answer.text  # what was chosen is kept


def test_a_form_without_a_file_asks_for_one(client: TestClient, data: Path) -> None:
    answer = client.post("/batch", data={CSRF_FIELD: token_of(client), "decision": DECISION, "as_of": AS_OF},
                         files={"other": ("x", b"", "text/plain")})
    assert answer.status_code == 422 and "请选择要上传的文件(CSV 或 XLSX)" in answer.text
    assert job_folders(data) == []


@pytest.mark.parametrize("size", [1_500, 200_000])  # past the limit: within the form's margin, and far beyond it
def test_a_file_over_the_size_limit_is_refused_and_not_kept(data: Path, size: int) -> None:
    app, store = workspace(data, max_upload=1_000)
    with TestClient(app) as client:
        answer = upload(client, "大.csv", b"x" * size)
        assert answer.status_code == 413
        assert "文件超过上限 1000 字节,未保存" in answer.text
        assert job_folders(data) == []
    store.close()


def test_a_cross_site_upload_is_refused_and_not_kept(client: TestClient, data: Path, tmp_path: Path) -> None:
    answer = client.post("/batch", data={"decision": DECISION, "as_of": AS_OF},
                         files={"file": ("名单.csv", csv_bytes(tmp_path), "text/csv")})
    assert answer.status_code == 403 and "防伪令牌" in answer.text
    assert job_folders(data) == []


def test_a_read_only_token_sees_the_page_but_cannot_upload(data: Path, tmp_path: Path) -> None:
    app, store = workspace(data, tokens=(("reader-token-1", "read"), ("writer-token-1", "evaluate")))
    with TestClient(app) as client:
        assert client.get("/batch").status_code == 401
        reader = {"Authorization": "Bearer reader-token-1"}
        assert "上传并评估" in client.get("/batch", headers=reader).text
        answer = upload(client, "名单.csv", csv_bytes(tmp_path), **reader)
        assert answer.status_code == 403
        assert job_folders(data) == []
        assert upload(client, "名单.csv", csv_bytes(tmp_path), Authorization="Bearer writer-token-1"
                      ).status_code == 303
    store.close()


def test_a_restarted_server_shows_the_job_serves_its_workbook_and_finds_its_rows(data: Path, tmp_path: Path) -> None:
    app, store = workspace(data)
    with TestClient(app) as client:
        where, _ = finished(client, "名单.csv", csv_bytes(tmp_path))
        first = client.get(f"{where}/result.xlsx").content
    store.close()
    app, store = workspace(data)  # a new server on the same data folder
    with TestClient(app) as client:
        page = client.get(where)
        assert "已完成" in page.text and "名单.csv" in page.text
        assert client.get(f"{where}/result.xlsx").content == first
        assert where in client.get("/batch").text  # in the list of recent jobs
        logged = client.get("/log", params={"q": "SX-003"})
        assert "SX-003" in logged.text and "batch" in logged.text
    assert {e.source for e in store.search(LogQuery(text="SX-00")).entries} == {"batch"}
    store.close()


def running_job(data: Path) -> tuple[str, Path]:
    job_id = new_job_id()
    folder = data / "batches" / job_id
    folder.mkdir(parents=True)
    (folder / "input.csv").write_text("")
    started = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=10)).isoformat(timespec="milliseconds")
    write_state(folder, {"id": job_id, "decision": DECISION, "as_of": AS_OF, "name": "大名单.csv", "suffix": ".csv",
                         "size": 0, "status": "running", "created": started, "started": started, "finished": None,
                         "rows_total": 1000, "rows_done": 250, "outcomes": {}, "errors": 0, "logged": 200,
                         "error_rows": [], "notes": [], "message": None})
    return job_id, folder


def test_a_running_job_is_polled_with_its_progress(data: Path) -> None:
    job_id, folder = running_job(data)
    with job_lock(folder) as held:  # as the job's own process holds it
        assert held
        app, store = workspace(data)
        with TestClient(app) as client:
            page = client.get(f"/batch/{job_id}")
            fragment = client.get(f"/batch/{job_id}/status").text
    store.close()
    assert "正在评估" in page.text and f'hx-get="/batch/{job_id}/status" hx-trigger="every 1s"' in page.text
    assert re.search(r"已评估 <strong>250</strong> / 1000 行\(25%\),每秒 \d+ 行,用时 \d+\.\d 秒", fragment)
    assert client.get(f"/batch/{job_id}/result.xlsx").status_code == 404


def test_a_job_left_running_by_a_stopped_server_is_shown_interrupted(data: Path) -> None:
    job_id, _ = running_job(data)
    app, store = workspace(data)  # no process holds the job: the server that ran it has stopped
    with TestClient(app) as client:
        page = client.get(f"/batch/{job_id}")
        listed = client.get("/batch").text
    store.close()
    assert "已中断" in page.text and "hx-trigger" not in page.text
    assert "服务器在评估过程中停止,本任务未完成,未写出结果工作簿;此前评估的行已记入决定日志(至少 200 行" in page.text
    assert "已中断" in listed


def test_a_job_stopped_with_the_server_is_interrupted_and_its_logged_rows_counted(client: TestClient, data: Path,
                                                                                  tmp_path: Path) -> None:
    rows = [ROWS[n % 3] for n in range(40_000)]  # long enough to be caught running
    answer = upload(client, "大名单.csv", csv_bytes(tmp_path, HEADER, rows))
    where = answer.headers["location"]
    folder = data / "batches" / where.rsplit("/", 1)[1]
    deadline = time.monotonic() + WAIT_SECONDS
    while (state := json.loads((folder / "state.json").read_text()))["rows_done"] == 0:
        assert state["status"] in ("queued", "running") and time.monotonic() < deadline, state
        time.sleep(0.05)
    os.kill(state["pid"], signal.SIGTERM)  # as when the server stops: its job's process is terminated
    while "hx-trigger" in (fragment := client.get(f"{where}/status").text):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    state = json.loads((folder / "state.json").read_text())
    assert state["status"] == "interrupted" and "已中断" in fragment and "服务器在评估过程中停止" in fragment
    assert not (folder / "result.xlsx").exists() and client.get(f"{where}/result.xlsx").status_code == 404
    store = client.app.state.store  # type: ignore[attr-defined]
    assert store.search(LogQuery(text=state["id"])).total == state["logged"] > 0  # the rows said, and no others
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_an_upload_left_half_written_by_a_stopped_server_is_removed_at_start(data: Path) -> None:
    old, new = data / "batches" / ".upload-0123456789abcdef", data / "batches" / ".upload-fedcba9876543210"
    for folder in (old, new):
        folder.mkdir(parents=True)
        (folder / "input.csv").write_bytes(b"half")
    os.utime(old, (time.time() - 2 * 3600, time.time() - 2 * 3600))
    app, store = workspace(data)
    with TestClient(app) as client:
        assert "还没有批量评估" in client.get("/batch").text
    store.close()
    assert not old.exists()
    assert new.exists()  # maybe being written by another server process now


@pytest.mark.parametrize("path", ["/batch/0123456789abcdef", "/batch/..%2F..%2Fetc", "/batch/0123456789abcdef/result.xlsx"])
def test_an_unknown_job_is_a_page_that_says_so(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404 and "Traceback" not in answer.text


def test_without_a_data_folder_the_page_says_batches_are_unavailable(tmp_path: Path) -> None:
    store = LogStore.sqlite(tmp_path / "log.sqlite3")
    with TestClient(create_app(LIBRARY, store, Settings())) as client:
        page = client.get("/batch")
        assert "未设置数据目录(--data),批量评估不可用" in page.text
        answer = upload(client, "名单.csv", b"a,b\n")
        assert answer.status_code == 422 and "未设置数据目录" in answer.text
    store.close()


def test_skillcert_serve_runs_a_batch_under_data_and_refuses_past_max_upload(tmp_path: Path) -> None:
    import httpx
    from test_server_cli import serving

    with serving("--data", str(tmp_path / "data"), "--max-upload", "1") as url, httpx.Client(base_url=url,
                                                                                         timeout=60) as http:
        page = http.get("/batch")
        assert "文件不超过 1 MiB" in page.text
        token = re.search(rf'name="{CSRF_FIELD}" value="([^"]+)"', page.text)
        assert token is not None
        fields = {CSRF_FIELD: token.group(1), "decision": DECISION, "as_of": AS_OF}
        big = http.post("/batch", data=fields, files={"file": ("大.csv", b"x" * (2 << 20), "text/csv")})
        assert big.status_code == 413 and "文件超过上限 1 MiB,未保存" in big.text
        answer = http.post("/batch", data=fields, files={"file": ("名单.csv", csv_bytes(tmp_path), "text/csv")})
        assert answer.status_code == 303
        where = answer.headers["location"]
        deadline = time.monotonic() + WAIT_SECONDS
        while "hx-trigger" in (fragment := http.get(f"{where}/status").text):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert "已完成" in fragment
        assert sheets(http.get(f"{where}/result.xlsx").content)["结果"][4][0] == "SX-004"
    assert [p.name for p in (tmp_path / "data" / "batches").iterdir()] == [where.rsplit("/", 1)[1]]
