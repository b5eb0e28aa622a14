"""The web workspace's pages over plain HTTP (Starlette's TestClient, a real SQLite log): the decisions, the rule
book, the evaluation form with its errors kept beside their fields, cross-site requests refused, hostile facts
escaped, the log searched and re-run."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from skillcert_webclient import TestClient  # first: skips this module without the [server] extra

# isort: split
import skillcert
from skillcert.audit.store import LogStore
from skillcert.server import Settings, create_app
from skillcert.server.pages import CSRF_COOKIE, CSRF_FIELD, mount_pages
from skillcert.source.loader import load_file
from skillcert.source.resources import policies_dir

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

LIBRARY = skillcert.load()
EXAMPLE = Path(policies_dir()) / "chongqing" / "examples" / "renewal-social-org.yaml"
FORM = "/decisions/chongqing/renewal/evaluate"


def example_form() -> dict[str, str]:
    """The bundled Chongqing example as a person fills the form: lists one per line, the findings field by field."""
    out: dict[str, str] = {"as_of": "2025-05-25"}
    for key, value in load_file(EXAMPLE).data.items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": _text(v) for k, v in value.items()})
        else:
            out[key] = _text(value)
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return str(value)


def workspace(store: LogStore, settings: Settings) -> Any:
    """The server's app with its pages (mounted by create_app; mounting again changes nothing)."""
    app = create_app(LIBRARY, store, settings)
    mount_pages(app, LIBRARY, store)
    return app


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    store = LogStore.sqlite(tmp_path / "log.sqlite3")
    with TestClient(workspace(store, Settings())) as c:
        yield c
    store.close()


def token_of(client: TestClient, path: str = FORM) -> str:
    page = client.get(path)
    assert page.status_code == 200
    found = re.search(rf'name="{CSRF_FIELD}" value="([^"]+)"', page.text)
    assert found is not None
    assert found.group(1) == client.cookies.get(CSRF_COOKIE)
    return found.group(1)


def submit(client: TestClient, form: dict[str, str]) -> Any:
    return client.post(FORM, data={**form, CSRF_FIELD: token_of(client)}, follow_redirects=True)


def test_the_decisions_page_lists_every_decision_with_its_period_and_marks_those_out_of_it(
        client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    for info in LIBRARY.decisions():
        assert f'href="/decisions/{info.id}"' in page.text
        assert info.title in page.text
    assert "不在有效期内" in page.text  # Nanning's packs ended on 2023-12-06
    assert "重庆市" in page.text


def test_the_csrf_cookie_is_strict_and_not_readable_by_scripts(client: TestClient) -> None:
    cookie = client.get("/").headers["set-cookie"].lower()
    assert "samesite=strict" in cookie and "httponly" in cookie


@pytest.mark.parametrize("decision", [info.id for info in LIBRARY.decisions()])
def test_every_decision_reads_as_a_rule_book_and_has_a_form(client: TestClient, decision: str) -> None:
    book = client.get(f"/decisions/{decision}")
    assert book.status_code == 200
    d = LIBRARY.decision(decision)
    for rule in d.rules:
        assert rule.source in book.text
    form = client.get(f"/decisions/{decision}/evaluate")
    assert form.status_code == 200
    for inp in d.inputs.values():
        assert inp.label in form.text


def test_the_rule_book_shows_the_scorecard_parameters_deadlines_and_notes(client: TestClient) -> None:
    text = client.get("/decisions/chongqing/renewal").text
    for expected in ("评分表", "缺一岗位及人员", "附件3 内部管理·岗位和履职", "工作日", "编制说明", "结论及其优先顺序"):
        assert expected in text


def test_every_form_field_has_its_chinese_label(client: TestClient) -> None:
    text = client.get(FORM).text
    assert '<label for="f-findings-posts_missing">缺少的岗位及人员数</label>' in text
    assert 'type="date" id="f-applied_on"' in text
    assert 'min="0" max="10"' in text
    assert '<option value="social_org">社会培训评价组织</option>' in text.replace(" selected", "")


def test_the_example_through_the_form_gives_the_cli_result_and_is_logged_from_the_web(
        client: TestClient) -> None:
    page = submit(client, example_form())
    assert page.status_code == 200, page.text
    assert "94.6" in page.text and "予以延续备案" in page.text and "2025-06-18" in page.text
    assert "§三(二)2" in page.text          # the rule that fired, with its clause
    assert "缺一岗位及人员" in page.text      # a deduction with its reason
    # the working-day deadline says from when it was counted and which holidays it went across (端午 2025)
    assert "自 2025-05-20 起计(当日不计);跨越法定节假日(不计入):2025-05-31 至 06-02(3 天)" in page.text
    event_id = page.url.path.rsplit("/", 1)[1]
    entry = client.get("/api/v1/log/" + event_id).json()
    assert entry["source"] == "web" and entry["outcome"] == "renew"
    download = client.get(f"/log/{event_id}.json")
    assert download.json()["score"] == 94.6
    assert "attachment" in download.headers["content-disposition"]


def test_a_bad_value_is_answered_beside_its_field_with_the_cli_message_and_the_form_kept(
        client: TestClient) -> None:
    form = example_form() | {"findings.posts_missing": "99", "applied_on": "2025-13-01"}
    page = submit(client, form)
    assert page.status_code == 422
    assert re.search(r'id="error-f-findings-posts_missing">[^<]*应不大于 10,收到 99<', page.text)
    assert re.search(r'id="error-f-applied_on">[^<]*不存在的日期', page.text)
    assert 'value="99"' in page.text and "4-01-05-01\n4-03-02-01\n4-03-02-02" in page.text
    assert '<option value="social_org" selected>' in page.text


def test_a_form_posted_without_its_token_is_refused(client: TestClient) -> None:
    token_of(client)
    assert client.post(FORM, data=example_form()).status_code == 403
    assert client.post(FORM, data={**example_form(), CSRF_FIELD: "forged"}).status_code == 403
    client.cookies.clear()
    assert client.post(FORM, data={**example_form(), CSRF_FIELD: "forged"}).status_code == 403
    assert client.get("/api/v1/log").json()["total"] == 0


def test_hostile_facts_are_escaped_on_every_page(client: TestClient) -> None:
    hostile = '<script>alert("x")</script>'
    page = submit(client, example_form() | {"institution_name": hostile})
    assert page.status_code == 200
    assert hostile not in page.text and "&lt;script&gt;" in page.text
    log = client.get("/log", params={"q": "alert"})
    assert hostile not in log.text and "&lt;script&gt;" in log.text
    errors = submit(client, example_form() | {"findings.posts_missing": hostile})
    assert errors.status_code == 422 and hostile not in errors.text


def test_the_log_is_searched_by_decision_outcome_date_and_identifying_text(client: TestClient) -> None:
    submit(client, example_form() | {"institution_name": "山城评价中心"})
    submit(client, example_form() | {"institution_name": "江北某公司", "findings.skill_room_defects": "5",
                                     "findings.posts_missing": "10", "findings.cameras_missing": "30"})
    assert client.get("/log").text.count('href="/log/') == 2
    found = client.get("/log", params={"q": "山城"})
    assert "山城评价中心" in found.text and "江北某公司" not in found.text
    assert "共 1 条" in found.text
    assert "共 1 条" in client.get("/log", params={"outcome": "renew"}).text
    assert "共 0 条" in client.get("/log", params={"decision": "hebei/renewal"}).text
    assert "共 0 条" in client.get("/log", params={"until": "2000-01-01"}).text
    assert "日期应写作" in client.get("/log", params={"since": "yesterday"}).text


def test_a_log_entry_is_rerun_against_the_current_pack(client: TestClient) -> None:
    page = submit(client, example_form())
    event_id = page.url.path.rsplit("/", 1)[1]
    token = client.cookies.get(CSRF_COOKIE)
    assert "用当前政策包重新评估" in page.text
    assert client.post(f"/log/{event_id}/rerun").status_code == 403
    rerun = client.post(f"/log/{event_id}/rerun", data={CSRF_FIELD: token})
    assert rerun.status_code == 200 and "结果相同" in rerun.text


def test_the_documents_of_a_result_download_as_word_files(client: TestClient) -> None:
    form = example_form() | {"institution_name": "山城评价中心", "issuing_office": "某局",
                             "document_number": "渝〔2025〕1号", "signed_on": "2025-06-01"}
    page = submit(client, form)
    links = re.findall(r'href="(/log/[^"]+/documents/[^"]+)"', page.text)
    assert links
    document = client.get(links[0])
    assert document.status_code == 200, document.text
    assert document.content[:2] == b"PK"


def test_pages_that_do_not_exist_say_so_in_chinese(client: TestClient) -> None:
    assert "没有这个决定" in client.get("/decisions/nowhere/none").text
    assert "日志中没有" in client.get("/log/nope").text
    assert client.get("/static/htmx.min.js").status_code == 200
    page = client.get("/nowhere", headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 404 and "没有这个页面:/nowhere" in page.text and "<html" in page.text
    assert client.get("/nowhere").json()["code"] == "not-found"  # not a browser: the API's JSON
    api = client.get("/api/v1/nowhere", headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.json()["code"] == "not-found"


def test_with_an_access_token_the_pages_ask_the_browser_for_it(tmp_path: Path) -> None:
    store = LogStore.sqlite(tmp_path / "log.sqlite3")
    with TestClient(workspace(store, Settings(token="t0ken"))) as c:
        refused = c.get("/")
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Basic")
        assert c.get("/log", auth=("staff", "wrong")).status_code == 401
        assert c.get("/log", headers={"Authorization": "Basic !!!"}).status_code == 401
        assert c.get("/", auth=("staff", "t0ken")).status_code == 200
        assert c.get("/", headers={"Authorization": "Bearer t0ken"}).status_code == 200
    store.close()


def test_the_findings_are_grouped_as_on_the_scorecard(client: TestClient) -> None:
    text = client.get(FORM).text
    legends = re.findall(r"<legend>([^<]+)</legend>", text)
    card = next(iter(LIBRARY.decision("chongqing/renewal").scorecards.values()))
    assert [f"延续备案评估发现的问题:{c.label}" for c in card.categories] == [g for g in legends if ":" in g]
    internal = text.index("延续备案评估发现的问题:内部管理")
    assert internal < text.index('id="f-findings-posts_missing"') < text.index("延续备案评估发现的问题:评价组织实施")


def test_a_day_outside_the_period_is_said_above_the_form_and_can_be_allowed(client: TestClient) -> None:
    refused = submit(client, example_form() | {"as_of": "2024-01-01"})
    assert refused.status_code == 422
    found = re.search(r'id="form-errors">(.*?)</div>', refused.text, re.S)
    assert found is not None and "2024-09-01" in found.group(1)
    assert 'value="2024-01-01"' in refused.text
    allowed = submit(client, example_form() | {"as_of": "2024-01-01", "allow_out_of_period": "true"})
    assert allowed.status_code == 200 and 'id="outcome"' in allowed.text


def test_a_read_only_token_may_see_the_pages_but_not_evaluate(tmp_path: Path) -> None:
    store = LogStore.sqlite(tmp_path / "log.sqlite3")
    settings = Settings(tokens=(("r3ad-only-token", "read"), ("ev4luate-token", "evaluate")))
    with TestClient(workspace(store, settings)) as c:
        assert c.get("/").status_code == 401
        form = c.get(FORM, auth=("staff", "r3ad-only-token"))
        assert form.status_code == 200
        token = c.cookies.get(CSRF_COOKIE)
        data = {**example_form(), CSRF_FIELD: token}
        assert c.post(FORM, data=data, auth=("staff", "r3ad-only-token")).status_code == 403
        done = c.post(FORM, data=data, auth=("staff", "ev4luate-token"), follow_redirects=True)
        assert done.status_code == 200 and 'id="outcome"' in done.text
    store.close()
