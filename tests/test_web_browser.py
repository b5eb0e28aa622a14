"""The web workspace in a real browser: Playwright for Python driving Debian's chromium against the server's app
on uvicorn (in a thread, on a port the system gives) with its decision log and batches in a temporary data folder. Each scenario saves a
screenshot under build/test-artefacts/web/ (the Chinese text must render: fonts-noto-cjk).

Where chromium or Playwright is missing the tests are skipped, saying how to install them.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

uvicorn = pytest.importorskip("uvicorn")

from skillcert.audit.store import LogStore  # noqa: E402
from skillcert.server import Settings  # noqa: E402
from skillcert_testutil import ROOT, write_xlsx  # noqa: E402
from test_web import LIBRARY, example_form, workspace  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
INSTALL = "apt-get install chromium fonts-noto-cjk, and pip install -e '.[test]' for playwright"
ARTEFACTS = ROOT / "build" / "test-artefacts" / "web"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

try:
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    sync_playwright = None

pytestmark = [
    pytest.mark.skipif(sync_playwright is None, reason=f"Playwright is not installed: {INSTALL}"),
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"no browser at {CHROMIUM}: {INSTALL}"),
]


@contextlib.contextmanager
def serving(data: Path) -> Iterator[str]:
    """The server on ``data`` (its log and batches), stopped at the end of the block."""
    store = LogStore.sqlite(data / "decision-log.sqlite3")
    app = workspace(store, Settings(data=str(data)))
    assert LIBRARY is app.state.library
    served = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120  # a bound on a stuck start, not a measurement
    while not served.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    port = served.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        served.should_exit = True
        thread.join(timeout=60)
        store.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(tmp_path_factory.mktemp("web-data")) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@contextlib.contextmanager
def browsing(browser: Any, url: str) -> Iterator[Page]:
    context = browser.new_context(base_url=url, locale="zh-CN", viewport={"width": 1280, "height": 900},
                                  accept_downloads=True)
    context.set_default_timeout(60_000)  # a shared CI machine: generous, and no assertion on time
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Page]:
    with browsing(browser, server) as p:
        yield p


def shot(page: Page, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


def fill_form(page: Page, form: dict[str, str]) -> None:
    page.goto("/decisions/chongqing/renewal/evaluate")
    for key, value in form.items():
        control = page.locator(f'[name="{key}"]')
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)


def test_the_chongqing_example_evaluated_through_the_form(page: Page) -> None:
    fill_form(page, example_form())
    page.get_by_role("button", name="评估").click()
    expect(page.locator("#outcome")).to_contain_text("予以延续备案")
    expect(page.locator("#score")).to_contain_text("94.6")
    expect(page.locator("#deadline-decision_due")).to_have_text("2025-06-18")
    expect(page.get_by_text("缺一岗位及人员").first).to_be_visible()
    shot(page, "evaluate-result")


def test_a_bad_value_is_shown_beside_its_field_and_the_form_kept(page: Page) -> None:
    fill_form(page, example_form() | {"findings.posts_missing": "99"})
    page.get_by_role("button", name="评估").click()
    error = page.locator("#field-f-findings-posts_missing .field-error")
    expect(error).to_contain_text("应不大于 10,收到 99")
    expect(page.get_by_label("缺少的岗位及人员数")).to_have_value("99")
    expect(page.get_by_label("收到申报材料日期")).to_have_value("2025-05-20")
    expect(page.get_by_label("备案职业(工种)", exact=True)).to_have_value("4-01-05-01\n4-03-02-01\n4-03-02-02")
    expect(page.get_by_label("机构类型")).to_have_value("social_org")
    error.scroll_into_view_if_needed()
    shot(page, "evaluate-error")


def test_the_decision_is_found_in_the_log_and_rerun(page: Page) -> None:
    fill_form(page, example_form() | {"institution_name": "山城职业技能评价中心"})
    page.get_by_role("button", name="评估").click()
    expect(page.locator("#score")).to_contain_text("94.6")
    page.goto("/log")
    page.get_by_label("名称或编号").fill("山城")
    page.get_by_role("button", name="查找").click()
    expect(page.locator("#entries")).to_contain_text("共 1 条")
    expect(page.locator("#entries")).to_contain_text("山城职业技能评价中心")
    shot(page, "log-search")
    page.locator("#entries a[href^='/log/']").first.click()
    expect(page.locator("#score")).to_contain_text("94.6")
    page.get_by_role("button", name="用当前政策包重新评估").click()
    expect(page.get_by_text("结果相同")).to_be_visible()  # swapped in by htmx (or a page of its own without it)
    shot(page, "log-entry-rerun")


def test_the_decisions_page_and_a_rule_book(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_role("link", name="职业技能等级认定机构延续备案")).to_be_visible()
    shot(page, "decisions")
    page.get_by_role("link", name="职业技能等级认定机构延续备案").click()
    expect(page.get_by_role("heading", name="编制说明")).to_be_visible()
    shot(page, "rule-book")


def test_a_small_workbook_uploaded_and_its_result_downloaded(page: Page, tmp_path: Path) -> None:
    from test_batch import AS_OF, HEADER, ROWS

    names = ["晋中职业技能评价中心", "太原技工学校", "大同煤业集团", "长治培训学校"]
    source = write_xlsx(tmp_path / "评价机构名单.xlsx", ["机构名称", *HEADER],
                        [[name, *row] for name, row in zip(names, ROWS, strict=True)])

    page.goto("/")
    page.get_by_role("link", name="批量").click()
    page.get_by_label("决定").select_option("shanxi/evaluation")
    page.get_by_label("评估日").fill(AS_OF)
    page.get_by_label("文件(.csv 或 .xlsx)").set_input_files(str(source))
    shot(page, "batch-form")
    page.get_by_role("button", name="上传并评估").click()
    expect(page.locator("#job-status")).to_have_text("已完成")  # polled by htmx until the job is over
    expect(page.locator("#summary")).to_contain_text("有错误,未评估")
    expect(page.locator("#error-rows")).to_contain_text("长治培训学校")
    expect(page.locator("#error-rows")).to_contain_text("不存在的日期")
    shot(page, "batch-result")
    with page.expect_download() as info:
        page.locator("#download").click()
    download = info.value
    assert download.suggested_filename == "评价机构名单-评估结果.xlsx"
    saved = tmp_path / "downloaded.xlsx"
    download.save_as(saved)
    book = openpyxl.load_workbook(saved)
    assert book.sheetnames == ["结果", "汇总"]
    rows = list(book["结果"].iter_rows(values_only=True))
    assert [r[0] for r in rows] == ["机构名称", "晋中职业技能评价中心", "太原技工学校", "大同煤业集团", "长治培训学校"]
    assert [r[2] for r in rows[1:]] == ["terminate", "suspend", "terminate", None]
    page.goto("/log")
    page.get_by_label("名称或编号").fill("太原技工")
    page.get_by_role("button", name="查找").click()
    expect(page.locator("#entries")).to_contain_text("共 1 条")
    expect(page.locator("#entries")).to_contain_text("batch")


def test_a_decision_made_through_the_form_is_found_in_the_log_after_a_restart(browser: Any, tmp_path: Path) -> None:
    with serving(tmp_path) as url, browsing(browser, url) as page:
        fill_form(page, example_form() | {"institution_name": "渝北职业技能评价中心"})
        page.get_by_role("button", name="评估").click()
        expect(page.locator("#score")).to_contain_text("94.6")
        entry = page.url
    with serving(tmp_path) as url, browsing(browser, url) as page:  # stopped and started on the same data folder
        page.goto("/log")
        page.get_by_label("名称或编号").fill("渝北")
        page.get_by_role("button", name="查找").click()
        expect(page.locator("#entries")).to_contain_text("共 1 条")
        expect(page.locator("#entries")).to_contain_text("渝北职业技能评价中心")
        page.locator("#entries a[href^='/log/']").first.click()
        assert page.url.rsplit("/", 1)[1] == entry.rsplit("/", 1)[1]
        expect(page.locator("#score")).to_contain_text("94.6")
        expect(page.locator("#outcome")).to_contain_text("予以延续备案")
        shot(page, "log-after-restart")
