"""Tokens with roles (``--tokens FILE`` beside ``--token``): a read-only token may read decisions, schemas and the
log but not evaluate or re-run (403), an evaluating token may do both, any other token is refused (401); a bad
tokens file is refused naming its line and never the token; tokens alone are enough off this machine."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from skillcert_webclient import TestClient  # first: skips this module without the [server] extra

# isort: split
import skillcert
from skillcert.audit.store import LogStore
from skillcert.errors import UsageError
from skillcert.server import Settings, create_app
from skillcert.server.settings import read_tokens
from skillcert.source.loader import load_file
from skillcert.source.resources import policies_dir
from skillcert.values import to_json

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

LIBRARY = skillcert.load()
RENEWAL = "/api/v1/decisions/chongqing/renewal"
READER, EVALUATOR, ADMIN = "reader-0123456789", "evaluator-0123456789", "admin-token-from-cli"
FACTS = json.loads(to_json(load_file(Path(policies_dir()) / "chongqing" / "examples" / "renewal-social-org.yaml")
                           .data, None))


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    tokens = tmp_path / "tokens.txt"
    tokens.write_text(f"# 窗口人员只读\nread {READER}\n\nevaluate   {EVALUATOR}  # 评估中心\n", encoding="utf-8")
    store = LogStore.sqlite(tmp_path / "log.sqlite3")
    settings = Settings(token=ADMIN, tokens=read_tokens(tokens))
    with TestClient(create_app(LIBRARY, store, settings)) as c:
        yield c
    store.close()


def _evaluate(c: TestClient, token: str | None) -> Any:
    headers = _bearer(token) if token else {}
    return c.post(f"{RENEWAL}/evaluate", json={"facts": FACTS, "as_of": "2025-05-25"}, headers=headers)


@pytest.mark.parametrize(("path", "token", "status"), [
    ("/api/v1/decisions", READER, 200),
    ("/api/v1/decisions", EVALUATOR, 200),
    ("/api/v1/decisions", ADMIN, 200),
    (f"{RENEWAL}/schema", READER, 200),
    ("/api/v1/log", READER, 200),
    ("/api/v1/decisions", None, 401),
    ("/api/v1/decisions", "someone-elses-token", 401),
    ("/api/v1/decisions", READER + "x", 401),
    ("/api/v1/decisions", READER[:-1], 401),
])
def test_reading_needs_any_known_token(client: TestClient, path: str, token: str | None, status: int) -> None:
    response = client.get(path, headers=_bearer(token) if token else {})
    assert response.status_code == status, response.text


@pytest.mark.parametrize(("token", "status", "code"), [
    (READER, 403, "forbidden"),
    (EVALUATOR, 200, None),
    (ADMIN, 200, None),
    (None, 401, "unauthorized"),
])
def test_evaluating_needs_an_evaluating_token(client: TestClient, token: str | None, status: int,
                                              code: str | None) -> None:
    response = _evaluate(client, token)
    assert response.status_code == status
    if code:
        assert response.json()["code"] == code and "Traceback" not in response.text
        assert response.headers["x-skillcert-pack-version"]
    else:
        assert response.json()["score"] == 94.6


def test_a_read_only_token_can_read_the_log_but_not_rerun_or_evaluate_many(client: TestClient) -> None:
    event_id = client.get("/api/v1/log", headers=_bearer(EVALUATOR)).json()["total"]
    assert event_id == 0
    assert _evaluate(client, EVALUATOR).status_code == 200
    entry = client.get("/api/v1/log", headers=_bearer(READER)).json()["entries"][0]
    assert client.get(f"/api/v1/log/{entry['id']}", headers=_bearer(READER)).status_code == 200
    assert client.post(f"/api/v1/log/{entry['id']}/rerun", headers=_bearer(READER)).status_code == 403
    assert client.post(f"/api/v1/log/{entry['id']}/rerun", headers=_bearer(EVALUATOR)).json()["same"] is True
    many = client.post(f"{RENEWAL}/evaluate-many?as_of=2025-05-25", content=json.dumps(FACTS).encode() + b"\n",
                       headers=_bearer(READER))
    assert many.status_code == 403
    assert client.get("/api/v1/log", headers=_bearer(READER)).json()["total"] == 1  # the refused ones not logged


def test_tokens_alone_are_enough_off_this_machine(tmp_path: Path) -> None:
    store = LogStore.sqlite(tmp_path / "log.sqlite3")
    create_app(LIBRARY, store, Settings(host="0.0.0.0", tokens=((READER, "read"),)))
    with pytest.raises(UsageError, match="--tokens"):
        create_app(LIBRARY, store, Settings(host="0.0.0.0"))
    store.close()


SECRET = "s3cret-do-not-show"


@pytest.mark.parametrize(("text", "message"), [
    (f"{SECRET} read\n", "第 1 行:第一个词应是角色"),             # the words swapped: the token is not echoed
    (f"# 注释\nadmin {SECRET}\n", "第 2 行:第一个词应是角色"),
    (f"read {SECRET} extra\n", "第 1 行 应写作“角色 令牌”"),
    ("read\n", "第 1 行 应写作“角色 令牌”"),
    ("read short\n", "第 1 行:令牌太短"),
    (f"read {SECRET}\nevaluate {SECRET}\n", "第 2 行:令牌与前面的某一行重复"),
    ("# 只有注释\n\n", "中没有令牌"),
])
def test_a_bad_tokens_file_is_refused_naming_the_line_not_the_token(tmp_path: Path, text: str,
                                                                     message: str) -> None:
    path = tmp_path / "tokens.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError) as info:
        read_tokens(path)
    assert message in info.value.message and SECRET not in info.value.message


def test_a_missing_tokens_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="无法读取令牌文件"):
        read_tokens(tmp_path / "nowhere.txt")


def test_tokens_file_roles_are_kept_in_order() -> None:
    settings = Settings(token=ADMIN, tokens=((READER, "read"), (EVALUATOR, "evaluate")))
    assert settings.credentials() == ((ADMIN, "evaluate"), (READER, "read"), (EVALUATOR, "evaluate"))
    assert Settings().credentials() == ()
