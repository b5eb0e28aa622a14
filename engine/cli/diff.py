"""``skillcert diff OLD NEW``: what a change to a pack does, before it is adopted.

Loads the two sides (two pack folders, two folders of packs compared pack by pack, or a pack folder and the same
folder at a git revision with ``--since``/``--rev``), prints the rule diff of each decision
(:mod:`skillcert.analysis.rulediff`), then the outcome impact over the cases (:mod:`skillcert.analysis.impact`:
``--cases`` files, the packs' own test cases and examples, and with ``--log`` the facts of the decision log), then,
where a parameter, the scorecard or a band changed, the smallest changes of findings that flip an outcome
(:mod:`skillcert.analysis.flips`). ``-o`` writes it all as one workbook. Exit 0 when no outcome differs, 1 when
some do (so CI can ask for an acknowledgement), 2 when it could not run.

An old side read from git is written by ``git archive`` into a temporary folder, always removed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import UsageError
from .common import EXIT_FINDINGS, EXIT_OK, require_schemas
from .parser import add_command, date_arg, positive_int_arg

if TYPE_CHECKING:
    import subprocess

    from ..compiler.model import Pack

__all__ = ["add_parser", "run", "read_revision"]

PACK_FILE = "pack.yaml"   # the compiler's name for it (not imported: --help must not load the compiler)


def add_parser(sub: Any) -> None:
    p = add_command(
        sub, "diff", summary="比较两个版本的政策包:规则变化,以及对结论的影响",
        description="比较政策包的两个版本(旧 OLD、新 NEW)。先按决定列出规则的变化,每处写明依据条款:"
                    "元数据和有效期、参数(旧值与新值、单位)、输入、评分项的满分和扣分、分档、条件和期限的表达式、"
                    "结论和优先顺序、文书。只比较编译后的规则:注释、键的顺序、引号、空白、80 与 80.0 这类写法上的"
                    "不同不算变化。\n"
                    "然后用两个版本分别评估同一批案例(--cases 给出的文件,加上两个政策包自带的测试用例和示例;"
                    "--log 时还有决定日志记录的事实),报告结论的变化:新旧结论的转移矩阵、得分分布的变化、"
                    "移动的期限,以及每个结论变了的行。参数、评分表或分档有变化时,还给出结论翻转的具体例子。\n"
                    "OLD 和 NEW 可以是政策包目录(如 policies/chongqing),也可以是存放多个政策包的目录"
                    "(按相同的 id 逐个比较)。给出 --since 或 --rev 时只需一个目录:旧版本取自 git 历史中的"
                    "该目录,新版本是工作区中的该目录。",
        examples=["skillcert diff policies/chongqing 草案/chongqing",
                  "skillcert diff policies/chongqing 草案/chongqing \\\n  --cases 案例.xlsx -o 影响.xlsx",
                  "skillcert diff policies/chongqing --since v1.0.0",
                  "skillcert diff policies/ --rev HEAD~3 --format json",
                  "skillcert diff policies/chongqing 草案/chongqing --log ./日志"],
        exit_codes=[(0, "没有任何案例的结论变化(规则可能有变化)"), (1, "有案例的结论变化"),
                    (2, "无法运行(目录不是政策包、政策包有错误、不是 git 仓库、版本或目录在该版本中不存在、"
                        "案例文件无法读取等)")],
        environment=["SKILLCERT_SCHEMAS", "SKILLCERT_NO_CACHE", "SKILLCERT_CACHE_DIR",
                     "SKILLCERT_REFERENCE_EVALUATOR", "SKILLCERT_DECISION_CODE", "SKILLCERT_DEBUG"],
        run=run)
    p.add_argument("old", metavar="OLD", help="旧版本:政策包目录或存放多个政策包的目录(给出 --since/--rev 时为要比较的目录)")
    p.add_argument("new", metavar="NEW", nargs="?", default=None,
                   help="新版本:政策包目录或存放多个政策包的目录(给出 --since/--rev 时不写)")
    git = p.add_mutually_exclusive_group()
    git.add_argument("--since", metavar="REV", default=None,
                     help="旧版本取自 git 历史:该目录在版本 REV(提交、标签或分支)时的内容")
    git.add_argument("--rev", metavar="REV", default=None, help="同 --since")
    p.add_argument("--cases", metavar="FILE", nargs="+", action="extend", default=[],
                   help="评估的案例:CSV、XLSX、JSONL 或 YAML 列表文件(转换同 batch),或存放事实文件的目录;可给多个")
    p.add_argument("--log", metavar="URL|DIR", nargs="?", const="", default=None,
                   help="也评估决定日志记录的事实:数据库地址,或 skillcert serve 的 --data 目录"
                        "(只写 --log 时用默认的数据目录)")
    p.add_argument("--as-of", type=date_arg, metavar="DATE",
                   help="评估日 YYYY-MM-DD(默认:每个案例自己的评估日,没有时为今天)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="输出格式(默认 text)")
    p.add_argument("-o", "--output", metavar="OUT.xlsx", default=None,
                   help="另写一个工作簿:规则变化、结论影响的各个视图、翻转示例,各占一张表")
    p.add_argument("--flips", type=int, default=10, metavar="N",
                   help="每个决定最多给出的翻转示例数(默认 10;0 为不找)")
    p.add_argument("--workers", type=positive_int_arg, default=1, metavar="N",
                   help="评估案例的并行进程数(默认 1)")


# ---------------------------------------------------------------------------------------------------------------
# The two sides


def _pack_folders(path: Path) -> tuple[Path, list[str]]:
    """The folder a library is made on and the packs (folder names) of ``path``: one pack, or a folder of packs."""
    if (path / PACK_FILE).is_file():
        return path.parent, [path.name]
    if path.is_dir():
        regions = sorted(p.parent.name for p in path.glob(f"*/{PACK_FILE}") if p.is_file())
        if regions:
            return path, regions
        raise UsageError(f"{path} 既不是政策包目录(没有 {PACK_FILE}),也不含政策包", code="diff-no-pack")
    raise UsageError(f"目录不存在:{path}", code="diff-no-pack")


class _Side:
    """One side of the comparison: a library on the folder and the packs it holds."""

    def __init__(self, path: Path, shown: str) -> None:
        from ..library import Library

        self.shown = shown
        root, self.regions = _pack_folders(path)
        self.library: Library = Library(root)

    def packs(self, as_of: dt.date | None) -> dict[str, Pack]:
        """Each pack: where a folder holds several versions, the one in force at ``as_of`` (default: the library's
        choice, the one in force today, else the newest), so that the rules compared are the ones evaluated."""
        return {region: self._version(region, as_of) for region in self.regions}

    def _version(self, region: str, as_of: dt.date | None) -> Pack:
        if as_of is not None:
            for pack in self.library.versions(region):
                if pack.valid_from <= as_of and (pack.valid_until is None or as_of <= pack.valid_until):
                    return pack
        return self.library.pack(region)


def _run_git(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    import subprocess

    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise UsageError("找不到 git 命令;读取历史版本需要安装 git", code="git-not-found") from None


def _git_message(proc: subprocess.CompletedProcess[bytes]) -> str:
    text = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    return text[0] if text else f"退出码 {proc.returncode}"


@contextlib.contextmanager
def read_revision(folder: Path, rev: str) -> Iterator[Path]:
    """``folder`` as it was at git revision ``rev``, written into a temporary folder that is removed on exit.

    Refused with a stable code: ``git-not-a-repository``, ``git-unknown-revision``, ``git-path-not-in-revision``,
    ``git-failed`` (anything else git says no to), ``git-not-found``.
    """
    import io
    import shutil
    import tarfile
    import tempfile

    if not folder.is_dir():
        raise UsageError(f"目录不存在:{folder}", code="diff-no-pack")
    top = _run_git(["rev-parse", "--show-toplevel"], folder)
    if top.returncode != 0:
        raise UsageError(f"{folder} 不在 git 仓库中,无法读取版本 {rev}", code="git-not-a-repository")
    root = Path(top.stdout.decode("utf-8", "surrogateescape").strip()).resolve()
    rel = folder.resolve().relative_to(root).as_posix()
    if rev.startswith("-") or _run_git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"],
                                       root).returncode != 0:
        raise UsageError(f"git 仓库 {root} 中没有版本 {rev}", code="git-unknown-revision")
    spec = f"{rev}:{rel}" if rel != "." else f"{rev}:"
    if _run_git(["cat-file", "-e", spec], root).returncode != 0:
        raise UsageError(f"版本 {rev} 中没有目录 {rel}", code="git-path-not-in-revision")
    archive = _run_git(["archive", "--format=tar", "--end-of-options", rev, *([rel] if rel != "." else [])], root)
    if archive.returncode != 0:
        raise UsageError(f"git archive 失败:{_git_message(archive)}", code="git-failed")
    temp = Path(tempfile.mkdtemp(prefix="skillcert-diff-"))
    try:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(temp, filter="data")  # noqa: S202 - the data filter refuses links and paths out of temp
        yield temp / rel if rel != "." else temp
    finally:
        shutil.rmtree(temp, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------------
# The decision log's facts


def _log_rows(where: str, decision_id: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The facts the decision log recorded for a decision, newest first, labelled by entry id."""
    from ..audit.store import MAX_PAGE, LogQuery, LogStore

    store = _open_log(where, LogStore)
    try:
        offset = 0
        while True:
            page = store.search(LogQuery(decision=decision_id, limit=MAX_PAGE, offset=offset))
            for event in page.entries:
                yield f"日志 {event.id}", dict(event.facts)
            offset += len(page.entries)
            if not page.entries or offset >= page.total:
                break
    finally:
        store.close()


def _open_log(where: str, store_class: Any) -> Any:
    from .serve import LOG_FILE, default_data_dir

    if "://" in where:
        return store_class(where)
    folder = Path(where) if where else default_data_dir()
    path = folder / LOG_FILE
    if not path.is_file():  # do not create an empty log: say there is none
        raise UsageError(f"{folder} 中没有决定日志({LOG_FILE})", code="diff-no-log")
    return store_class.sqlite(path)


def _check_log_modules() -> None:
    import importlib.util

    if importlib.util.find_spec("sqlalchemy") is None:
        raise UsageError('读取决定日志需要 sqlalchemy:pip install "skillcert[server]"', code="diff-no-log")


# ---------------------------------------------------------------------------------------------------------------
# The command


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    rev = args.since or args.rev
    if rev is not None and args.new is not None:
        raise UsageError("给出 --since/--rev 时只写一个目录(新版本是工作区中的该目录)")
    if rev is None and args.new is None:
        raise UsageError("缺少 NEW:请给出两个目录,或一个目录和 --since REV")
    if args.output is not None and not args.output.lower().endswith(".xlsx"):
        raise UsageError(f"-o 应是 .xlsx 文件,收到 {args.output}")
    if args.flips < 0:
        raise UsageError("--flips 不能为负数")
    for name in args.cases:
        if not Path(name).exists():
            raise UsageError(f"案例文件不存在:{name}", code="diff-no-cases")
    if args.log is not None:
        _check_log_modules()
    require_schemas()
    with contextlib.ExitStack() as stack:
        if rev is not None:
            old_path = stack.enter_context(read_revision(Path(args.old), rev))
            old = _Side(old_path, f"{args.old}@{rev}")
            new = _Side(Path(args.old), args.old)
        else:
            old = _Side(Path(args.old), args.old)
            new = _Side(Path(args.new), args.new)
        return _compare(old, new, args, out, err)
    raise AssertionError("unreachable")  # pragma: no cover - the with block returns


def _compare(old: _Side, new: _Side, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..analysis.rulediff import rule_diff

    old_packs, new_packs = old.packs(args.as_of), new.packs(args.as_of)
    if len(old.regions) == 1 and len(new.regions) == 1 and old.regions != new.regions:
        raise UsageError(f"两个政策包不是同一个:{old.regions[0]} 与 {new.regions[0]}", code="diff-different-packs")
    regions = list(dict.fromkeys([*old.regions, *new.regions]))
    diff = rule_diff((old_packs.get(r), new_packs.get(r)) for r in regions)
    impacts, flips = _impacts(old, new, diff, args)
    try:
        _report(old, new, diff, impacts, flips, args, out, err)
    finally:
        for report in impacts:
            report.close()
    return EXIT_FINDINGS if any(report.changed for report in impacts) else EXIT_OK


def _report(old: _Side, new: _Side, diff: Any, impacts: list[Any], flips: dict[str, list[Any]],
            args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    """The rule diff, each decision's impact and its flips: on the terminal or as JSON, and as a workbook."""
    from ..analysis.rulediff import SHEET_NAME

    if args.format == "json":
        from ..values import to_json

        payload = {"old": old.shown, "new": new.shown, "as_of": args.as_of.isoformat() if args.as_of else None,
                   **diff.as_json(),
                   "impact": [report.as_json() for report in impacts],
                   "flips": {d: [f.as_json() for f in found] for d, found in flips.items()},
                   "rows_compared": sum(report.total for report in impacts),
                   "rows_changed": sum(report.changed for report in impacts)}
        out.write(to_json(payload) + "\n")
    else:
        out.write(f"旧:{old.shown}\n新:{new.shown}\n\n规则变化\n")
        out.writelines(line + "\n" for line in diff.text_lines())
        for report in impacts:
            out.write("\n")
            out.writelines(line + "\n" for line in report.text_lines())
            found = flips.get(report.decision_id)
            if found:
                out.write(f"\n结论翻转的例子 {report.decision_id}\n")
                out.writelines(f"  · {f.text()}\n" for f in found)
    if args.output is not None:
        from ..analysis.flips import FLIP_HEADER, FLIP_SHEET
        from ..analysis.impact import write_impact_xlsx

        header, rows = diff.sheet_rows()
        sheets: list[tuple[str, list[str], Any]] = [(SHEET_NAME, header, rows)]
        several = len(impacts) > 1  # each decision's views named apart ('/' cannot stand in a sheet's name)
        for report in impacts:
            sheets.extend(report.sheets(report.decision_id.replace('/', '·') if several else ""))
        sheets.append((FLIP_SHEET, ["决定", *FLIP_HEADER],
                       [[d, *f.sheet_row()] for d, found in flips.items() for f in found]))
        write_impact_xlsx(Path(args.output), sheets)
        print(f"已写入 {args.output}", file=err)


def _impacts(old: _Side, new: _Side, diff: Any, args: argparse.Namespace) -> tuple[list[Any], dict[str, list[Any]]]:
    """The outcome impact of each decision both sides hold, and the flip examples where the scoring changed."""
    from ..analysis.flips import flip_examples
    from ..analysis.impact import measure_impact

    case_files = [Path(name) for name in args.cases]
    impacts: list[Any] = []
    flips: dict[str, list[Any]] = {}
    for decision_id in diff.decisions_in_common():
        rows = _log_rows(args.log, decision_id) if args.log is not None else None
        impacts.append(measure_impact(old.library, new.library, decision_id, rows=rows, case_files=case_files,
                                      as_of=args.as_of, workers=args.workers))
        if args.flips and diff.touches_scoring(decision_id):
            # the search starts from both packs' own test cases and examples (the flips' default seeds)
            flips[decision_id] = flip_examples(old.library, new.library, decision_id, as_of=args.as_of,
                                               limit=args.flips)
    return impacts, flips
