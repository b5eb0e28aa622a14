"""The HTTP API through the real application (Starlette's TestClient) on a real SQLite log: every pack test case
gives through ``/api/v1`` the library's JSON, errors carry the command line's codes with their HTTP statuses, every
response names the pack, JSON Lines answer a bad line on its line, the log survives a restart, a token is
required when one is set."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from skillcert_webclient import TestClient  # first: skips this module without the [server] extra

# isort: split
import skillcert
from skillcert.analysis.tester import find_test_files, load_cases
from skillcert.audit.store import LogStore
from skillcert.errors import SkillcertError, UsageError
from skillcert.server import Settings, create_app
from skillcert.source.resources import policies_dir
from skillcert.values import to_json

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

LIBRARY = skillcert.load()
CASES = [c for f in find_test_files(policies_dir()) for c in load_cases(f)[0]]
EXAMPLE = Path(policies_dir()) / "chongqing" / "examples" / "renewal-social-org.yaml"
RENEWAL = "/api/v1/decisions/chongqing/renewal"


def _example() -> dict[str, Any]:
    from skillcert.source.loader import load_file

    data: dict[str, Any] = json.loads(to_json(load_file(EXAMPLE).data, None))
    return data


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "log.sqlite3"


@pytest.fixture
def client(db: Path) -> Iterator[TestClient]:
    store = LogStore.sqlite(db)
    with TestClient(create_app(LIBRARY, store, Settings())) as c:
        yield c
    store.close()


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    store = LogStore.sqlite(tmp_path_factory.mktemp("log") / "log.sqlite3")
    with TestClient(create_app(LIBRARY, store, Settings())) as c:
        yield c
    store.close()


@pytest.mark.parametrize("case", CASES, ids=[f"{Path(c.file).parent.parent.name}-{c.name}" for c in CASES])
def test_every_pack_case_gives_the_library_json_through_the_api(shared: TestClient, case: Any) -> None:
    as_of = case.as_of or dt.date.today()
    body = to_json({"facts": case.facts, "as_of": as_of, "allow_out_of_period": case.allow_out_of_period}, None)
    response = shared.post(f"/api/v1/decisions/{case.decision}/evaluate", content=body)
    try:
        want = LIBRARY.evaluate(case.decision, case.facts, as_of=as_of, allow_out_of_period=case.allow_out_of_period)
    except SkillcertError as exc:
        assert response.status_code in (400, 404, 422), response.text
        assert response.json()["code"] == exc.code
        assert response.json()["message"] == exc.message
        return
    assert response.status_code == 200, response.text
    assert response.text == want.to_json()
    assert response.headers["X-Skillcert-Pack-Digest"] == want.pack_digest
    assert response.headers["X-Skillcert-Pack-Version"] == want.pack_version


def test_the_example_through_the_api(client: TestClient) -> None:
    response = client.post(f"{RENEWAL}/evaluate", json={"facts": _example(), "as_of": "2025-05-25"})
    result = response.json()
    assert (result["outcome"], result["score"], result["deadlines"]["decision_due"]) == ("renew", 94.6, "2025-06-18")
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize(("path", "body", "status", "code"), [
    (f"{RENEWAL}/evaluate", {"facts": {"nonsense": 1}, "as_of": "2025-05-25"}, 422, "facts-invalid"),
    ("/api/v1/decisions/chongqing/nope/evaluate", {"facts": {}}, 404, "unknown-decision"),
    ("/api/v1/decisions/atlantis/renewal/evaluate", {"facts": {}}, 404, "unknown-decision"),
    (f"{RENEWAL}/evaluate", {"facts": "x"}, 400, "body-invalid"),
    (f"{RENEWAL}/evaluate", {"fact": {}}, 400, "body-invalid"),
    (f"{RENEWAL}/evaluate", {"facts": {}, "as_of": "2025-13-01"}, 400, "body-invalid"),
    (f"{RENEWAL}/evaluate", [1, 2], 400, "body-invalid"),
    (f"{RENEWAL}/evaluate", b"{not json", 400, "body-invalid"),
    (f"{RENEWAL}/evaluate", b"\xff\xfe", 400, "body-invalid"),
    (f"{RENEWAL}/evaluate", {"facts": "EXAMPLE", "as_of": "2020-01-01"}, 422, "out-of-period"),
    ("/api/v1/nothing", None, 404, "not-found"),
    ("/api/v1/log/0123", None, 404, "not-found"),
])
def test_errors_carry_codes_statuses_and_no_traceback(client: TestClient, path: str, body: Any, status: int,
                                                      code: str) -> None:
    if isinstance(body, dict) and body.get("facts") == "EXAMPLE":
        body = {**body, "facts": _example()}
    if body is None:
        response = client.get(path)
    elif isinstance(body, bytes):
        response = client.post(path, content=body)
    else:
        response = client.post(path, json=body)
    assert response.status_code == status, response.text
    data = response.json()
    assert data["code"] == code and data["message"] and isinstance(data["problems"], list)
    assert "Traceback" not in response.text
    assert response.headers["X-Skillcert-Pack-Version"]


def test_facts_problems_name_key_label_and_the_cli_message(client: TestClient) -> None:
    facts = {**_example(), "registry_level": "moon"}
    facts.pop("applied_on")
    response = client.post(f"{RENEWAL}/evaluate", json={"facts": facts, "as_of": "2025-05-25"})
    with pytest.raises(SkillcertError) as cli:
        LIBRARY.evaluate("chongqing/renewal", facts, as_of=dt.date(2025, 5, 25))
    data = response.json()
    assert data["message"] == cli.value.message
    assert [p["message"] for p in data["problems"]] == [p.message for p in cli.value.problems]
    by_key = {p["key"]: p for p in data["problems"]}
    assert by_key["applied_on"]["label"] == "收到申报材料日期"
    assert by_key["registry_level"]["label"] and "moon" in by_key["registry_level"]["message"]


def test_a_body_over_the_limit_is_refused(db: Path) -> None:
    store = LogStore.sqlite(db)
    with TestClient(create_app(LIBRARY, store, Settings(max_body=100))) as c:
        response = c.post(f"{RENEWAL}/evaluate", json={"facts": {"x": "y" * 200}})
    assert (response.status_code, response.json()["code"]) == (413, "body-too-large")


def test_decisions_schema_and_openapi(client: TestClient) -> None:
    decisions = client.get("/api/v1/decisions").json()["decisions"]
    assert {d["id"] for d in decisions} == {d.id for d in LIBRARY.decisions()}
    schema = client.get(f"{RENEWAL}/schema")
    assert schema.status_code == 200
    assert schema.json()["properties"]["applied_on"]["title"] == "收到申报材料日期"
    assert schema.headers["X-Skillcert-Pack-Digest"].startswith("sha256:")
    paths = client.get("/openapi.json").json()["paths"]
    assert f"{RENEWAL.replace('chongqing/renewal', '{region}/{name}')}/evaluate" in paths


def test_json_lines_answer_each_line_and_a_bad_line_on_its_own(client: TestClient) -> None:
    good = json.dumps(_example(), ensure_ascii=False)
    body = "\n".join([good, "{bad", "[1]", "", good, json.dumps({"nonsense": 1})]) + "\n"
    response = client.post(f"{RENEWAL}/evaluate-many?as_of=2025-05-25", content=body.encode())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["line"] for line in lines] == [1, 2, 3, 5, 6]
    assert [line.get("error", {}).get("code") for line in lines] == [
        None, "body-invalid", "body-invalid", None, "facts-invalid"]
    want = LIBRARY.evaluate("chongqing/renewal", _example(), as_of=dt.date(2025, 5, 25))
    assert lines[0]["result"] == json.loads(want.to_json()) == lines[3]["result"]
    assert client.get("/api/v1/log").json()["total"] == 2  # the two evaluated lines, logged


def test_json_lines_out_of_period_is_refused_before_any_line(client: TestClient) -> None:
    response = client.post(f"{RENEWAL}/evaluate-many?as_of=2020-01-01", content=b"{}\n")
    assert (response.status_code, response.json()["code"]) == (422, "out-of-period")


def test_the_log_is_searchable_and_survives_a_restart(db: Path) -> None:
    store = LogStore.sqlite(db)
    with TestClient(create_app(LIBRARY, store, Settings())) as c:
        for name in ("甲职业培训学校", "乙协会"):
            facts = {**_example(), "institution_name": name}
            assert c.post(f"{RENEWAL}/evaluate", json={"facts": facts, "as_of": "2025-05-25"}).status_code == 200
        c.post(f"{RENEWAL}/evaluate", json={"facts": {"nonsense": 1}})  # refused: not a decision, not logged
    store.close()
    store = LogStore.sqlite(db)  # a new process would do the same: open the file again
    with TestClient(create_app(LIBRARY, store, Settings())) as c:
        log = c.get("/api/v1/log").json()
        assert log["total"] == 2
        assert [e["ids"] for e in log["entries"]] == [{"institution_name": "乙协会"},
                                                     {"institution_name": "甲职业培训学校"}]  # newest first
        found = c.get("/api/v1/log", params={"q": "培训", "decision": "chongqing/renewal", "outcome": "renew",
                                             "since": dt.date.today().isoformat()}).json()
        assert found["total"] == 1
        entry = c.get(f"/api/v1/log/{found['entries'][0]['id']}").json()
        assert entry["event_version"] == 1 and entry["source"] == "api"
        assert entry["result"]["score"] == 94.6 and entry["pack_digest"].startswith("sha256:")
        assert c.get("/api/v1/log", params={"since": "yesterday"}).json()["code"] == "request-invalid"
    store.close()


def test_a_token_is_required_when_set(db: Path) -> None:
    store = LogStore.sqlite(db)
    with TestClient(create_app(LIBRARY, store, Settings(token="s3cret"))) as c:
        refused = c.get("/api/v1/decisions")
        assert (refused.status_code, refused.json()["code"]) == (401, "unauthorized")
        assert c.get("/api/v1/decisions", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/api/v1/decisions", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_a_token_is_required_off_this_machine(db: Path) -> None:
    store = LogStore.sqlite(db)
    with pytest.raises(UsageError, match="--token"):
        create_app(LIBRARY, store, Settings(host="0.0.0.0"))
    create_app(LIBRARY, store, Settings(host="0.0.0.0", token="t"))
    create_app(LIBRARY, store, Settings(host="::1"))


def test_a_logged_decision_rerun_with_the_same_pack_is_the_same(client: TestClient) -> None:
    made = client.post(f"{RENEWAL}/evaluate", json={"facts": _example(), "as_of": "2025-05-25"})
    event = client.get("/api/v1/log").json()["entries"][0]
    rerun = client.post(f"/api/v1/log/{event['id']}/rerun")
    assert rerun.status_code == 200
    data = rerun.json()
    assert (data["same"], data["differences"], data["pack_changed"]) == (True, [], False)
    assert data["now"] == data["then"] == made.json()
    assert rerun.headers["X-Skillcert-Pack-Digest"] == made.headers["X-Skillcert-Pack-Digest"]
    assert client.get("/api/v1/log").json()["total"] == 1  # a rerun is a check, not a decision
    assert client.post("/api/v1/log/nope/rerun").status_code == 404


def test_a_rerun_after_the_pack_changed_says_so(tmp_path: Path, db: Path) -> None:
    import shutil

    folder = tmp_path / "policies"
    shutil.copytree(Path(policies_dir()) / "chongqing", folder / "chongqing")
    store = LogStore.sqlite(db)
    with TestClient(create_app(skillcert.load(folder), store, Settings())) as c:
        c.post(f"{RENEWAL}/evaluate", json={"facts": _example(), "as_of": "2025-05-25"})
    pack = folder / "chongqing" / "pack.yaml"
    pack.write_text(pack.read_text(encoding="utf-8").replace("  version: 1.0.0", "  version: 1.0.1", 1),
                    encoding="utf-8")
    with TestClient(create_app(skillcert.load(folder), store, Settings())) as c:
        event = c.get("/api/v1/log").json()["entries"][0]
        data = c.post(f"/api/v1/log/{event['id']}/rerun").json()
    assert (data["same"], data["pack_changed"]) == (True, True)
    assert (data["then"]["pack_version"], data["now"]["pack_version"]) == ("1.0.0", "1.0.1")


def test_json_lines_are_logged_in_batches_and_none_is_lost(db: Path) -> None:
    store = LogStore.sqlite(db)
    good = json.dumps(_example(), ensure_ascii=False)
    with TestClient(create_app(LIBRARY, store, Settings(log_batch=2))) as c:
        response = c.post(f"{RENEWAL}/evaluate-many?as_of=2025-05-25", content="\n".join([good] * 5))
        assert len(response.text.splitlines()) == 5
        assert c.get("/api/v1/log").json()["total"] == 5
