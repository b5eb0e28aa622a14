"""Versions over time: a pack folder holding several versions of its pack (pack.yaml and pack-<version>.yaml), each
decision evaluated by the version in force at the as-of date; two libraries over two copies of a pack side by side.

The versions are made here from a copy of the bundled Chongqing pack: 1.0.0 (the bundled text, ending 2025-12-31)
in pack-1.0.0.yaml and 1.1.0 in pack.yaml (from 2026-01-01, 95 points to renew and 15 working days to decide), so
that the bundled example (94.6 points) is renewed under 1.0.0 and must rectify under 1.1.0.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import skillcert
from skillcert.errors import OutOfPeriodError, PackError, UsageError
from skillcert.library import Library
from skillcert.runtime import fastpath
from skillcert.source.loader import load_file
from skillcert_testutil import POLICIES, SOCIAL_ORG_EXAMPLE, read_csv, run_cli, write_csv

OLD_DAY, NEW_DAY, BEFORE = dt.date(2025, 5, 25), dt.date(2026, 2, 2), dt.date(2024, 1, 1)


def facts() -> dict[str, Any]:
    data = load_file(SOCIAL_ORG_EXAMPLE).data
    assert isinstance(data, dict)
    return data


def edit(path: Path, *changes: tuple[str, str]) -> None:
    text = path.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")


OLD_ENDS = ("  valid_until: null", "  valid_until: 2025-12-31")
NEW_VERSION = (("  version: 1.0.0", "  version: 1.1.0"), ("  valid_from: 2024-09-01", "  valid_from: 2026-01-01"),
               ("renew_min_score: {value: 80,", "renew_min_score: {value: 95,"),
               ("scorecard_decision_working_days: {value: 20,", "scorecard_decision_working_days: {value: 15,"))


def copy_pack(root: Path) -> Path:
    folder = root / "chongqing"
    shutil.copytree(POLICIES / "chongqing", folder)
    return folder


@pytest.fixture
def versions(tmp_path: Path) -> Path:
    """A folder of packs whose chongqing pack has two versions: 1.0.0 (until 2025-12-31) and 1.1.0 (from 2026)."""
    folder = copy_pack(tmp_path / "policies")
    shutil.copy(folder / "pack.yaml", folder / "pack-1.0.0.yaml")
    edit(folder / "pack-1.0.0.yaml", OLD_ENDS)
    edit(folder / "pack.yaml", *NEW_VERSION)
    return tmp_path / "policies"


def digest(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_evaluation_picks_the_version_in_force_at_the_as_of_date(versions: Path) -> None:
    library = skillcert.load(versions)
    old = library.evaluate("chongqing/renewal", facts(), as_of=OLD_DAY)
    new = library.evaluate("chongqing/renewal", facts(), as_of=NEW_DAY)
    assert (old.pack_version, old.outcome, old.score) == ("1.0.0", "renew", Decimal("94.6"))
    assert (new.pack_version, new.outcome, new.score) == ("1.1.0", "rectify", Decimal("94.6"))
    assert old.pack_digest == digest(versions / "chongqing" / "pack-1.0.0.yaml")
    assert new.pack_digest == digest(versions / "chongqing" / "pack.yaml")
    assert old.decision == new.decision == "chongqing/renewal"  # the contract's result keeps its shape
    assert set(old.as_dict()) == set(new.as_dict())
    # the last day of 1.0.0 and the first of 1.1.0
    assert library.evaluate("chongqing/renewal", facts(), as_of=dt.date(2025, 12, 31)).pack_version == "1.0.0"
    assert library.evaluate("chongqing/renewal", facts(), as_of=dt.date(2026, 1, 1)).pack_version == "1.1.0"


def test_each_version_decides_by_its_own_parameters(versions: Path) -> None:
    """The deadline parameter changed too (20 → 15 working days): each date gets its own version's count."""
    library = skillcert.load(versions)
    moved = dict(facts(), registration_expires_on=dt.date(2026, 3, 31), applied_on=dt.date(2026, 2, 2))
    new = library.evaluate("chongqing/renewal", moved, as_of=NEW_DAY)
    old = library.evaluate("chongqing/renewal@1.0.0", moved, as_of=NEW_DAY, allow_out_of_period=True)
    assert new.deadlines["decision_due"] is not None and old.deadlines["decision_due"] is not None
    assert new.deadlines["decision_due"] < old.deadlines["decision_due"]


def test_a_date_no_version_covers_is_out_of_period_naming_every_version(versions: Path) -> None:
    library = skillcert.load(versions)
    with pytest.raises(OutOfPeriodError) as caught:
        library.evaluate("chongqing/renewal", facts(), as_of=BEFORE)
    message = caught.value.message
    assert caught.value.code == "out-of-period"
    for text in ("1.0.0 版 2024-09-01 至 2025-12-31", "1.1.0 版 2026-01-01 起", "--allow-out-of-period"):
        assert text in message
    allowed = library.evaluate("chongqing/renewal", facts(), as_of=BEFORE, allow_out_of_period=True)
    assert allowed.pack_version == "1.0.0" and any("有效期" in w for w in allowed.warnings)
    code, _, err = run_cli(["--policies", str(versions), "evaluate", "chongqing/renewal", str(SOCIAL_ORG_EXAMPLE),
                            "--as-of", "2024-01-01"])
    assert code == 2 and "out-of-period" in err and "1.1.0 版 2026-01-01 起" in err


def test_a_version_named_explicitly_is_that_version_whatever_the_date(versions: Path) -> None:
    library = skillcert.load(versions)
    named = library.evaluate("chongqing/renewal@1.1.0", facts(), as_of=OLD_DAY, allow_out_of_period=True)
    assert named.pack_version == "1.1.0" and named.outcome == "rectify" and named.warnings
    with pytest.raises(OutOfPeriodError):  # a named version keeps its own period
        library.evaluate("chongqing/renewal@1.1.0", facts(), as_of=OLD_DAY)
    with pytest.raises(UsageError) as caught:
        library.decision("chongqing/renewal@2.0.0")
    assert "1.0.0(2024-09-01 至 2025-12-31)" in caught.value.message and "1.1.0" in caught.value.message
    with pytest.raises(UsageError):
        library.decision("chongqing/renewal@")
    code, out, _ = run_cli(["--policies", str(versions), "evaluate", "chongqing/renewal@1.0.0",
                            str(SOCIAL_ORG_EXAMPLE), "--as-of", str(OLD_DAY), "--format", "json"])
    assert code == 0 and json.loads(out)["pack_version"] == "1.0.0"


def test_decision_without_a_date_is_the_version_in_force_today_else_the_newest(versions: Path) -> None:
    library = skillcert.load(versions)
    today = dt.date.today()
    assert library.decision("chongqing/renewal") is library.decision("chongqing/renewal", as_of=today)
    # both versions over before today: the newest
    edit(versions / "chongqing" / "pack.yaml", ("  valid_until: null", f"  valid_until: {today - dt.timedelta(1)}"))
    library = skillcert.load(versions)
    newest = library.decision("chongqing/renewal")
    assert newest.pack is not None and newest.pack.version == "1.1.0"
    assert library.pack("chongqing").version == "1.1.0" and len(library.versions("chongqing")) == 2


def test_one_library_holds_both_versions_side_by_side(versions: Path) -> None:
    library = skillcert.load(versions)
    old, new = library.decision("chongqing/renewal@1.0.0"), library.decision("chongqing/renewal@1.1.0")
    assert old is not new and old.parameter_values["renew_min_score"] == 80
    assert new.parameter_values["renew_min_score"] == 95
    assert old is library.decision("chongqing/renewal", as_of=OLD_DAY)
    assert new is library.decision("chongqing/renewal", as_of=NEW_DAY)
    assert library.versioned_id(old) == "chongqing/renewal@1.0.0"
    assert skillcert.load(POLICIES).versioned_id(skillcert.load(POLICIES).decision("chongqing/renewal")) \
        == "chongqing/renewal"


def two_copies(tmp_path: Path) -> tuple[Path, Path]:
    """Two folders, each with a chongqing pack (same id, same version), the second one stricter."""
    first, second = tmp_path / "a", tmp_path / "b"
    copy_pack(first)
    edit(copy_pack(second) / "pack.yaml", ("renew_min_score: {value: 80,", "renew_min_score: {value: 95,"),
         ("{per: 0.4, count: findings.posts_missing", "{per: 0.5, count: findings.posts_missing"))
    return first, second


@pytest.mark.parametrize("cache", ["on", "off"])
def test_two_libraries_over_two_folders_with_the_same_pack_id_share_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: str) -> None:
    """Parse cache, compiled decisions, generated decision code: nothing of one copy leaks into the other, whichever
    is evaluated first and however often (past the point where a decision gets its generated function)."""
    monkeypatch.setenv("SKILLCERT_CACHE_DIR", str(tmp_path / "cache"))
    if cache == "off":
        monkeypatch.setenv("SKILLCERT_NO_CACHE", "1")
    else:
        monkeypatch.delenv("SKILLCERT_NO_CACHE", raising=False)
    first, second = two_copies(tmp_path)
    a, b = Library(first), Library(second)
    for _ in range(2 * fastpath.THRESHOLD + 2):
        for detail in (True, False):
            ra = a.evaluate("chongqing/renewal", facts(), as_of=OLD_DAY, detail=detail)
            rb = b.evaluate("chongqing/renewal", facts(), as_of=OLD_DAY, detail=detail)
            assert (ra.outcome, ra.score) == ("renew", Decimal("94.6"))
            assert (rb.outcome, rb.score) == ("rectify", Decimal("94.4"))  # 2 posts missing: -1.0, not -0.8
            assert ra.pack_digest != rb.pack_digest and ra.pack_version == rb.pack_version
    da, db = a.decision("chongqing/renewal"), b.decision("chongqing/renewal")
    assert da is not db and da.pack is not None and db.pack is not None
    assert da.pack.directory != db.pack.directory
    source_a, source_b = fastpath.generated_source(da), fastpath.generated_source(db)
    assert source_a is not None and source_b is not None and source_a != source_b
    # a third library over the first folder, made after both: the first copy's figures, from the cache or not
    assert Library(first).evaluate("chongqing/renewal", facts(), as_of=OLD_DAY).score == Decimal("94.6")
    assert Library(second).evaluate("chongqing/renewal", facts(), as_of=OLD_DAY).score == Decimal("94.4")


def test_two_libraries_batch_side_by_side(tmp_path: Path) -> None:
    from skillcert.tabular.batch import run_batch

    first, second = two_copies(tmp_path)
    rows = csv_rows(tmp_path / "in.csv", 5)
    outcomes = []
    for folder in (first, second, first):
        out = tmp_path / f"{folder.name}.csv"
        run_batch(Library(folder), "chongqing/renewal", rows, out, as_of=OLD_DAY)
        outcomes.append({r["outcome"] for r in read_csv(out)})
    assert outcomes == [{"renew"}, {"rectify"}, {"renew"}]


def csv_rows(path: Path, n: int) -> Path:
    """``n`` rows of the bundled example's facts as a spreadsheet has them (dotted columns, lists as JSON)."""
    flat: dict[str, Any] = {}
    for key, value in facts().items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    cell: Callable[[Any], str] = lambda v: json.dumps(v) if isinstance(v, list) else str(v).lower() \
        if isinstance(v, bool) else str(v)  # noqa: E731
    header = ["id", *flat]
    return write_csv(path, header, [[f"r{i}", *map(cell, flat.values())] for i in range(n)])


@pytest.mark.parametrize("workers", [1, 2])
def test_batch_uses_the_version_in_force_at_its_as_of_date(versions: Path, tmp_path: Path, workers: int) -> None:
    from skillcert.tabular.batch import run_batch

    rows = csv_rows(tmp_path / "in.csv", 30)
    library = skillcert.load(versions)
    for day, outcome in ((OLD_DAY, "renew"), (NEW_DAY, "rectify")):
        out = tmp_path / f"out-{day}-{workers}.csv"
        summary = run_batch(library, "chongqing/renewal", rows, out, as_of=day, workers=workers)
        assert summary is not None
        assert {r["outcome"] for r in read_csv(out)} == {outcome}
    with pytest.raises(OutOfPeriodError):  # refused before any row
        run_batch(library, "chongqing/renewal", rows, tmp_path / "none.csv", as_of=BEFORE)
    many = list(library.evaluate_many("chongqing/renewal", [facts()], as_of=NEW_DAY))
    assert many[0]["outcome"] == "rectify"


def test_overlapping_versions_are_an_error_with_file_line_and_a_chinese_hint(versions: Path) -> None:
    edit(versions / "chongqing" / "pack-1.0.0.yaml", ("  valid_until: 2025-12-31", "  valid_until: 2026-03-31"))
    with pytest.raises(PackError) as caught:
        skillcert.load(versions).decision("chongqing/renewal")
    overlap = [p for p in caught.value.problems if p.code == "version-overlap"]
    assert len(overlap) == 1
    problem = overlap[0]
    assert problem.location.file.endswith("pack.yaml") and problem.location.line > 0
    assert "2026-03-31" in problem.message and "2025-12-31" in problem.hint and "valid_until" in problem.hint
    code, out, _ = run_cli(["validate", str(versions)])
    assert code == 1 and "version-overlap" in out and "pack.yaml:" in out


def test_a_gap_between_versions_is_only_a_warning(versions: Path) -> None:
    edit(versions / "chongqing" / "pack-1.0.0.yaml", ("  valid_until: 2025-12-31", "  valid_until: 2025-10-31"))
    code, out, err = run_cli(["validate", str(versions)])
    assert code == 0, out
    assert "警告" in err and "version-gap" in err and "61 天" in err
    library = skillcert.load(versions)
    assert [w.code for w in library.version_warnings("chongqing")] == ["version-gap"]
    with pytest.raises(OutOfPeriodError):
        library.evaluate("chongqing/renewal", facts(), as_of=dt.date(2025, 11, 15))
    code, _, err = run_cli(["--policies", str(versions), "list"])
    assert code == 0 and "version-gap" in err


@pytest.mark.parametrize(("file", "declares", "code"), [
    ("pack-1.0.0.yaml", "1.2.0", "version-file"),       # the name says another version
    ("pack-1.1.0.yaml", "1.1.0", "duplicate-version"),  # pack.yaml says 1.1.0 too
])
def test_a_version_file_must_be_named_after_its_own_version(versions: Path, file: str, declares: str,
                                                           code: str) -> None:
    folder = versions / "chongqing"
    (folder / "pack-1.0.0.yaml").rename(folder / file)
    edit(folder / file, ("  version: 1.0.0", f"  version: {declares}"))
    found, out, _ = run_cli(["validate", str(versions)])
    assert found == 1 and f": {code}: " in out and file in out


def test_pack_tests_run_each_case_against_the_version_in_force_at_its_date(versions: Path) -> None:
    import yaml
    from skillcert.analysis.tester import run_paths

    cases = {"decision": "chongqing/renewal", "base": {"facts": facts()}, "cases": [
        {"id": "old", "note": "1.0.0:80 分即予以延续备案", "as_of": OLD_DAY, "want": {"outcome": "renew", "score": 94.6}},
        {"id": "new", "note": "1.1.0:95 分才予以延续备案", "as_of": NEW_DAY, "want": {"outcome": "rectify"}},
        {"id": "named", "note": "写明版本 1.0.0", "as_of": NEW_DAY, "version": "1.0.0", "allow_out_of_period": True,
         "want": {"outcome": "renew"}},
        {"id": "none", "note": "两个版本都未施行", "as_of": BEFORE, "want_error": "out-of-period"},
    ]}
    test_file = versions / "chongqing" / "tests" / "versions.yaml"
    class Plain(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True  # the loader refuses aliases: each date written out

    test_file.write_text(yaml.dump(cases, Dumper=Plain, allow_unicode=True), encoding="utf-8")
    report = run_paths([str(test_file)])
    assert report.ok, report.render()
    assert {"chongqing/renewal@1.0.0", "chongqing/renewal@1.1.0"} <= set(report.coverage)
    pinned = dict(cases, decision="chongqing/renewal@1.1.0", cases=[  # a whole file for one version
        {"id": "pinned", "note": "1.1.0 的文件", "as_of": NEW_DAY, "want": {"outcome": "rectify"}},
        {"id": "pinned-early", "note": "1.1.0 施行前", "as_of": OLD_DAY, "want_error": "out-of-period"}])
    pinned_file = test_file.with_name("pinned.yaml")
    pinned_file.write_text(yaml.dump(pinned, Dumper=Plain, allow_unicode=True), encoding="utf-8")
    report = run_paths([str(pinned_file)])
    assert report.ok and list(report.coverage) == ["chongqing/renewal@1.1.0"], report.render()
    everything = run_paths([str(versions)])  # the bundled cases (all before 2026): against 1.0.0
    assert everything.ok, everything.render()
    code, out, _ = run_cli(["validate", str(versions)])
    assert code == 0, out


def test_list_shows_each_version_with_its_period(versions: Path) -> None:
    code, out, err = run_cli(["--policies", str(versions), "list"])
    assert code == 0
    lines = [line.split() for line in out.splitlines() if line.startswith("chongqing/renewal")]
    assert [(cols[2], " ".join(cols[3:])) for cols in lines] == [("1.0.0", "2024-09-01 至 2025-12-31"),
                                                                ("1.1.0", "2026-01-01 起")]
    assert "chongqing/renewal@1.0.0" in err
    infos = [i for i in skillcert.load(versions).decisions() if i.id == "chongqing/renewal"]
    assert [(i.version, i.versions) for i in infos] == [("1.0.0", 2), ("1.1.0", 2)]
    assert infos[0].digest == digest(versions / "chongqing" / "pack-1.0.0.yaml")


def test_documents_come_from_the_version_that_decided(versions: Path, tmp_path: Path) -> None:
    library = skillcert.load(versions)
    given = dict(facts(), institution_name="重庆某培训评价组织", issuing_office="重庆市人力资源和社会保障局",
                 document_number="渝人社〔2026〕1号", signed_on=dt.date(2026, 2, 3))
    result = library.evaluate("chongqing/renewal", given, as_of=NEW_DAY)
    documents = library.documents(result, given)
    assert documents and result.pack_version == "1.1.0"
    target = tmp_path / "docs"
    target.mkdir()
    for name, data in documents.items():
        (target / f"{name}.docx").write_bytes(data)
    for path in target.glob("*.docx"):  # verify re-evaluates at the document's date: the same version
        code, out, err = run_cli(["--policies", str(versions), "verify", str(path)])
        assert code == 0, out + err


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_the_api_lists_each_version_and_answers_from_the_version_in_force(versions: Path, tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")

    from skillcert.audit.store import LogStore
    from skillcert.server import Settings, create_app
    from skillcert.values import to_json
    from skillcert_webclient import TestClient

    store = LogStore.sqlite(tmp_path / "log.sqlite3")
    url = "/api/v1/decisions/chongqing/renewal"
    try:
        with TestClient(create_app(skillcert.load(versions), store, Settings())) as client:
            listed = [d for d in client.get("/api/v1/decisions").json()["decisions"] if d["id"] == "chongqing/renewal"]
            assert [(d["version"], d["valid_from"], d["valid_until"]) for d in listed] == [
                ("1.0.0", "2024-09-01", "2025-12-31"), ("1.1.0", "2026-01-01", None)]
            for day, version, outcome in ((OLD_DAY, "1.0.0", "renew"), (NEW_DAY, "1.1.0", "rectify")):
                response = client.post(f"{url}/evaluate", content=to_json({"facts": facts(), "as_of": day}, None))
                assert response.status_code == 200, response.text
                body = response.json()
                assert (body["pack_version"], body["outcome"]) == (version, outcome)
                assert response.headers["X-Skillcert-Pack-Version"] == version
                assert response.headers["X-Skillcert-Pack-Digest"] == body["pack_digest"]
                many = client.post(f"{url}/evaluate-many?as_of={day}", content=to_json(facts(), None) + "\n")
                assert many.status_code == 200 and many.headers["X-Skillcert-Pack-Version"] == version
                assert json.loads(many.text.splitlines()[0])["result"]["outcome"] == outcome
            refused = client.post(f"{url}/evaluate-many?as_of={BEFORE}", content=to_json(facts(), None) + "\n")
            assert refused.json()["code"] == "out-of-period"
    finally:
        store.close()
