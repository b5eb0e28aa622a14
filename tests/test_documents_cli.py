"""Documents on the command line (issue 13): ``skillcert evaluate … --documents DIR``, ``skillcert verify``,
``skillcert batch … --documents DIR``, and file names safe on Windows."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from test_documents import RECTIFY_EXAMPLE, _rewrite


def _cli(*argv: str) -> tuple[int, str, str]:
    from skillcert.cli import run

    out, err = io.StringIO(), io.StringIO()
    return run(list(argv), out, err), out.getvalue(), err.getvalue()


def test_evaluate_writes_the_documents_and_verify_confirms_them(tmp_path: Path) -> None:
    folder = tmp_path / "文书"
    code, _, err = _cli("evaluate", "chongqing/renewal", str(RECTIFY_EXAMPLE), "--as-of", "2025-06-10",
                        "--documents", str(folder))
    assert code == 0, err
    assert sorted(p.name for p in folder.iterdir()) == ["延续备案评估表.docx", "整改通知书.docx"]
    code, out, _ = _cli("verify", str(folder / "整改通知书.docx"))
    assert code == 0 and "一致" in out
    tampered = folder / "改过.docx"
    tampered.write_bytes(_rewrite((folder / "整改通知书.docx").read_bytes(),
                                  lambda n, b: b.replace(b'"posts":1.2', b'"posts":0.4')
                                  if n == "docProps/custom.xml" else b))
    code, out, _ = _cli("verify", str(tampered))
    assert code == 1 and "已被改动" in out
    code, _, err = _cli("verify", str(RECTIFY_EXAMPLE))
    assert code == 2 and "document-unreadable" in err


def test_evaluate_with_a_missing_document_input_writes_nothing(tmp_path: Path) -> None:
    facts = tmp_path / "facts.yaml"
    facts.write_text(RECTIFY_EXAMPLE.read_text(encoding="utf-8").replace("institution_name:", "# institution_name:"),
                     encoding="utf-8")
    folder = tmp_path / "out"
    code, out, err = _cli("evaluate", "chongqing/renewal", str(facts), "--as-of", "2025-06-10",
                          "--documents", str(folder))
    assert code == 2 and "document-input-missing" in err and "institution_name(机构名称)" in err
    assert not folder.exists() or not list(folder.iterdir())


def test_file_names_are_safe_on_windows() -> None:
    from skillcert.documents.files import safe_name

    taken: set[str] = set()
    assert safe_name('a<b>:c"d/e\\|?*', ".docx", taken) == "a_b__c_d_e____.docx"
    assert safe_name("CON", ".docx", taken) == "_CON.docx"
    assert safe_name("名 称. ", ".docx", taken) == "名 称.docx"
    assert safe_name("名 称", ".docx", taken) == "名 称-2.docx"
    assert len(safe_name("长" * 500, ".docx", taken)) <= 85


ROWS = """编号,机构名称,发文机关,落款日期,institution_kind,registry_level,registration_expires_on,applied_on,\
registered_occupations,assessed_occupations,findings.skill_room_defects,findings.question_source
CQ-001,重庆甲培训中心,重庆市人力资源和社会保障局,2025-06-10,social_org,city,2025-06-30,2025-05-20,\
"[""4-01-05-01""]","[""4-01-05-01""]",5,none
CON,重庆乙培训中心,重庆市人力资源和社会保障局,2025-06-10,social_org,city,2025-06-30,2025-05-20,\
"[""4-01-05-01""]","[""4-01-05-01""]",1,center
CQ-003,,重庆市人力资源和社会保障局,2025-06-10,social_org,city,2025-06-30,2025-05-20,\
"[""4-01-05-01""]","[""4-01-05-01""]",5,none
"""


def test_batch_writes_one_set_per_row_named_by_the_id_column(tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text(ROWS, encoding="utf-8")
    folder = tmp_path / "文书"
    code, _, err = _cli("batch", "chongqing/renewal", str(rows), "-o", str(tmp_path / "out.csv"),
                        "--as-of", "2025-06-10", "--documents", str(folder), "--id-column", "编号")
    assert code == 1   # row 3 has no 机构名称: its documents are not made, the others are
    # "CON_…" is a name Windows accepts (only CON itself, with or without an extension, is a device)
    assert sorted(p.name for p in folder.iterdir()) == [
        "CON_延续备案回执.docx", "CON_延续备案评估表.docx", "CQ-001_延续备案评估表.docx", "CQ-001_整改通知书.docx"]
    assert "第 3 行:document-input-missing" in err and "institution_name(机构名称)" in err
    assert "重庆甲培训中心" in (tmp_path / "out.csv").read_text(encoding="utf-8-sig")  # names stay in the output
    code, out, _ = _cli("verify", str(folder / "CQ-001_整改通知书.docx"))
    assert code == 0, out


def test_batch_refuses_an_id_column_that_is_not_there(tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text(ROWS, encoding="utf-8")
    folder = tmp_path / "文书"
    code, _, err = _cli("batch", "chongqing/renewal", str(rows), "-o", str(tmp_path / "out.csv"),
                        "--as-of", "2025-06-10", "--documents", str(folder), "--id-column", "序号")
    assert code == 2 and "序号" in err
    assert not [p for p in folder.iterdir()]


def test_pdf_is_made_or_its_absence_said_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from skillcert.documents.pdf import ABSENT_MESSAGE, soffice

    folder = tmp_path / "out"
    if soffice() is None:
        code, _, err = _cli("evaluate", "chongqing/renewal", str(RECTIFY_EXAMPLE), "--as-of", "2025-06-10",
                            "--documents", str(folder), "--pdf")
        assert code == 0 and err.count(ABSENT_MESSAGE) == 1
        return
    code, _, err = _cli("evaluate", "chongqing/renewal", str(RECTIFY_EXAMPLE), "--as-of", "2025-06-10",
                        "--documents", str(folder), "--pdf")
    assert code == 0, err
    assert (folder / "整改通知书.pdf").read_bytes().startswith(b"%PDF")
    monkeypatch.setenv("SKILLCERT_SOFFICE", str(tmp_path / "no-such-soffice"))
    code, _, err = _cli("evaluate", "chongqing/renewal", str(RECTIFY_EXAMPLE), "--as-of", "2025-06-10",
                        "--documents", str(tmp_path / "again"), "--pdf")
    assert code == 0 and err.count(ABSENT_MESSAGE) == 1


def test_document_options_need_a_folder_and_a_decision_with_documents(tmp_path: Path) -> None:
    code, _, err = _cli("evaluate", "chongqing/renewal", str(RECTIFY_EXAMPLE), "--as-of", "2025-06-10", "--pdf")
    assert code == 2 and "--documents" in err
    rows = tmp_path / "rows.csv"
    rows.write_text(ROWS, encoding="utf-8")
    code, _, err = _cli("batch", "fuzhou/operations", str(rows), "-o", str(tmp_path / "out.csv"),
                        "--documents", str(tmp_path / "d"))
    assert code == 2 and "没有声明文书" in err and not (tmp_path / "out.csv").exists()


SHANXI_ROWS = """编号,机构名称,发文机关,落款日期,institution_kind,registry_level,registered_on,registration_expires_on,\
assessment_dates,evaluation_on,evaluation_result
SX-1,太原甲培训学校,太原市人力资源和社会保障局,2023-09-25,social_org,city,2020-05-10,2023-10-01,\
"[""2021-06-01"", ""2022-09-01"", ""2023-05-01""]",2023-09-15,pass
SX-2,太原乙公司,太原市人力资源和社会保障局,2023-09-25,employer,city,2021-03-10,2024-03-01,\
"[""2021-06-01"", ""2022-09-01"", ""2023-05-01""]",2023-09-15,below_standard
SX-3,太原丙学校,太原市人力资源和社会保障局,2023-09-25,school,city,2020-05-10,2023-12-01,"[""2020-09-01""]",\
2023-09-15,pass
SX-4,太原丁机构,太原市人力资源和社会保障局,2023-09-25,social_org,city,2019-11-10,2023-12-01,"[""2020-09-01""]",\
2023-09-15,pass
"""


def test_batch_makes_the_shanxi_opinion_summary_by_institution_kind(tmp_path: Path) -> None:
    import docx

    rows = tmp_path / "rows.csv"
    rows.write_text(SHANXI_ROWS, encoding="utf-8")
    folder = tmp_path / "文书"
    code, _, err = _cli("batch", "shanxi/evaluation", str(rows), "-o", str(tmp_path / "out.csv"),
                        "--as-of", "2023-09-20", "--documents", str(folder), "--id-column", "编号")
    assert code == 0, err
    names = sorted(p.name for p in folder.iterdir())
    # SX-4 (registered in 2019) is not evaluated: no opinion, and not in the summary
    assert names == ["2020-2021年度备案机构评估意见汇总表.docx", "SX-1_评估意见.docx", "SX-2_评估意见.docx",
                     "SX-3_评估意见.docx"]
    summary = folder / "2020-2021年度备案机构评估意见汇总表.docx"
    document = docx.Document(str(summary))
    table = [[c.text for c in r.cells] for r in document.tables[0].rows]
    assert table[1][:5] == ["1", "社会培训评价组织", "太原甲培训学校", "2020", "同意延续备案"]
    assert table[2][4] == "暂停评价活动" and table[3][4] == "终止备案" and len(table) == 4
    counts = [[c.text for c in r.cells] for r in document.tables[1].rows]
    assert counts[-1] == ["合计", "3", "1", "0", "1", "1", "0"]
    code, out, _ = _cli("verify", str(summary))
    assert code == 0 and "汇总 3 行" in out, out
    tampered = tmp_path / "改过.docx"
    tampered.write_bytes(_rewrite(summary.read_bytes(), lambda n, b: b.replace(b'"below_standard"', b'"pass"')
                                  if n == "docProps/custom.xml" else b))
    code, out, _ = _cli("verify", str(tampered))
    assert code == 1 and "已被改动" in out


def test_written_documents_are_readable_by_others_as_the_umask_allows(tmp_path: Path) -> None:
    import os

    from skillcert.documents.files import write_all

    old = os.umask(0o022)
    try:
        written = write_all(tmp_path / "out", {"a.docx": b"x", "b.docx": b"y"})
    finally:
        os.umask(old)
    assert [oct(p.stat().st_mode & 0o777) for p in written] == ["0o644", "0o644"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.docx", "b.docx"]  # no temporary left


def _readme_document_commands() -> list[list[str]]:
    import re

    root = Path(__file__).resolve().parent.parent
    section = (root / "README.md").read_text(encoding="utf-8").split("## Documents", 1)[1].split("\n## ", 1)[0]
    lines = [line for block in re.findall(r"```sh\n(.+?)\n```", section, re.S) for line in block.splitlines()
             if line.startswith("skillcert evaluate") and "--documents" in line]
    return [[str(root / a) if a.startswith("policies/") else a for a in line.split()[1:]] for line in lines]


def test_every_pack_with_documents_has_an_example_the_readme_runs(tmp_path: Path) -> None:
    """Each README command writes, for its pack's example under examples/documents/, every document the outcome
    calls for, each verified and without a tag left; and every pack that declares documents has one."""
    import docx
    import skillcert

    commands = _readme_document_commands()
    library = skillcert.load(Path(__file__).resolve().parent.parent / "policies")
    with_documents = {d.id for region in library.regions()
                      for d in library.pack(region).decisions.values() if d.documents}
    assert {argv[1] for argv in commands} == with_documents
    for n, argv in enumerate(commands):
        folder = tmp_path / str(n)
        assert "examples/documents/" in argv[2]
        code, _, err = _cli(*[str(folder) if a == "文书/" else a for a in argv])
        assert code == 0, (argv, err)
        written = sorted(folder.iterdir())
        assert written, argv
        for path in written:
            text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
            assert "{{" not in text and "{%" not in text, path.name
            code, out, _ = _cli("verify", str(path))
            assert code == 0 and "一致" in out, (path.name, out)


def test_batch_says_a_document_input_column_is_for_the_documents(tmp_path: Path) -> None:
    source = tmp_path / "rows.csv"
    source.write_text("编号,机构名称,落款日期,institution_kind,registry_level,registered_on,registration_expires_on,"
                      "evaluation_on,evaluation_result,备注\n"
                      "SX-1,太原甲培训学校,2023-09-25,social_org,city,2020-06-18,2023-09-10,2023-09-20,pass,x\n",
                      encoding="utf-8")
    code, _, err = _cli("batch", "shanxi/evaluation", str(source), "-o", str(tmp_path / "out.csv"),
                        "--as-of", "2023-09-20")
    assert code in (0, 1), err
    assert "列 '机构名称' 是文书输入 institution_name(机构名称):评估不用,生成文书(--documents)时使用" in err
    assert "列 '落款日期' 是文书输入 signed_on(落款日期)" in err
    assert "注意:列 '机构名称'" not in err
    assert "注意:列 '备注' 不是决定 shanxi/evaluation 的输入,原样带到输出" in err
