"""The ``skillcert`` command line (see shared/CONTRACT.md): validate, evaluate, test, list, functions.

``run(argv, stdout, stderr)`` returns the exit code, so tests call it in-process. Exit codes:
0 success; 1 validation findings or failed pack tests; 2 bad input, refused, or could not run.
No traceback reaches the user: every expected failure is a :class:`~engine.errors.SkillcertError`.
Heavy modules (pydantic, jsonschema) are imported only by the commands that need them.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import SkillcertError, UsageError
from ..source.resources import policies_dir

if TYPE_CHECKING:
    from ..library import Library

__all__ = ["run", "main"]

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse exits 2 on usage errors, which matches our contract
        raise UsageError(f"{self.prog}: {message}")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期应写作 YYYY-MM-DD,收到 '{text}'") from None


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="skillcert", description="职业技能等级认定评价机构 政策规则引擎 (skillcert)")
    p.add_argument("--policies", metavar="DIR", help="政策包目录(默认为自带的 policies/)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    v = sub.add_parser("validate", help="检查政策包、测试用例和示例 (exit 1 when problems are found)")
    v.add_argument("paths", nargs="*", metavar="PATH", help="政策包目录或文件(默认 policies/)")

    e = sub.add_parser("evaluate", help="对一个机构的事实作出决定")
    e.add_argument("decision", metavar="DECISION", help="地区/决定,如 chongqing/renewal")
    e.add_argument("facts", metavar="FACTS", help="事实文件(YAML 或 JSON),- 表示标准输入")
    e.add_argument("--as-of", type=_date, metavar="DATE", help="评估日 YYYY-MM-DD(默认今天)")
    e.add_argument("--format", default="text", metavar="FORMAT", help="输出格式:text(中文报告,默认)、json")
    e.add_argument("--explain", action="store_true", help="列出每个派生值和期限的计算过程")
    e.add_argument("--allow-out-of-period", action="store_true", help="允许在政策包有效期之外评估(结果带警告)")
    e.add_argument("--calendar", action="append", default=[], metavar="FILE",
                   help="补充节假日数据的 YAML 文件(可多次给出)")

    t = sub.add_parser("test", help="运行政策包自带的测试用例,并报告覆盖情况")
    t.add_argument("paths", nargs="*", metavar="PATH", help="政策包目录或测试文件(默认 policies/)")
    t.add_argument("-v", "--verbose", action="store_true", help="逐个列出通过的用例(默认只列失败、覆盖和汇总)")
    t.add_argument("-q", "--quiet", action="store_true", help=argparse.SUPPRESS)  # the default; kept for scripts

    b = sub.add_parser("batch", help="批量评估:CSV、XLSX、JSONL 或 YAML 列表,每行一个机构")
    b.add_argument("decision", metavar="DECISION", help="地区/决定,如 shanxi/evaluation")
    b.add_argument("input", metavar="INPUT", help="输入文件(.csv .xlsx .jsonl .yaml)")
    b.add_argument("-o", "--output", required=True, metavar="OUTPUT", help="输出文件(.csv .xlsx .jsonl,按扩展名)")
    b.add_argument("--as-of", type=_date, metavar="DATE", help="评估日 YYYY-MM-DD(默认今天)")
    b.add_argument("--workers", type=int, default=1, metavar="N", help="并行的进程数(默认 1)")
    b.add_argument("--allow-out-of-period", action="store_true", help="允许在政策包有效期之外评估")
    b.add_argument("--calendar", action="append", default=[], metavar="FILE", help="补充节假日数据的 YAML 文件")
    b.add_argument("--no-progress", action="store_true", help="不显示进度条(不是终端时本来就不显示)")

    sub.add_parser("list", help="列出可评估的决定及其有效期")
    sub.add_parser("functions", help="列出表达式中可用的函数")
    return p


def run(argv: list[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        with contextlib.redirect_stdout(out):  # --help and usage text go to the caller's stream
            args = _parser().parse_args(argv)
        handler = {"validate": _validate, "evaluate": _evaluate, "test": _test, "list": _list,
                   "functions": _functions, "batch": _batch}[args.command]
        return handler(args, out, err)
    except SkillcertError as exc:
        _print_error(exc, err)
        return EXIT_ERROR
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except KeyboardInterrupt:
        print("已中断", file=err)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug: say so in one line; SKILLCERT_DEBUG=1 shows the traceback
        if os.environ.get("SKILLCERT_DEBUG"):
            raise
        print(f"skillcert: internal-error: 内部错误({type(exc).__name__}: {exc})。这是 skillcert 的缺陷,"
              "请附上命令和输入报告;设置 SKILLCERT_DEBUG=1 可显示详细堆栈。", file=err)
        return EXIT_ERROR


def _print_error(exc: SkillcertError, err: TextIO) -> None:
    head = f"{exc.location}: " if exc.location else ""
    print(f"skillcert: {head}{exc.code}: {exc.message}", file=err)
    for p in exc.problems:
        print(f"  {p}", file=err)


def main() -> None:
    sys.exit(run())


def _library(args: argparse.Namespace, calendar_files: list[str] | None = None) -> Library:
    from ..library import load

    years = []
    if calendar_files:
        from ..lang.calendar import year_data_from_mapping
        from ..source.loader import load_file

        for f in calendar_files:
            doc = load_file(f)
            entries = doc.data if isinstance(doc.data, list) else [doc.data]
            for i, entry in enumerate(entries):
                if not isinstance(entry, dict):
                    raise UsageError(f"{f}: 每一年的节假日数据应是一个映射")
                years.append(year_data_from_mapping(entry, str(doc.source.locate((i,) if isinstance(doc.data, list)
                                                                                   else ()))))
    return load(args.policies, calendar_years=years)


# ---- validate


def _validate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..analysis.validation import validate_paths

    paths = args.paths or [str(policies_dir(args.policies))]
    problems, checked = validate_paths(paths)
    for p in problems:
        print(p, file=out)
    n = len(problems)
    if n:
        print(f"{n} 个问题({checked} 个文件)", file=err)
        return EXIT_FINDINGS
    print(f"全部通过:{checked} 个文件", file=err)
    return EXIT_OK


# ---- evaluate


def _evaluate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .. import plugins
    from ..source.loader import load_file, load_text

    formats = plugins.output_formats(plugins.plugin_manager())
    if args.format not in formats:
        raise UsageError(f"未知的输出格式 '{args.format}'(可用:{'、'.join(formats)})")
    if args.facts == "-":
        doc = load_text(sys.stdin.read(), "<stdin>")
    else:
        doc = load_file(args.facts)
    library = _library(args, args.calendar)
    result = library.evaluate(args.decision, doc.data, as_of=args.as_of,
                              allow_out_of_period=args.allow_out_of_period, explain=args.explain,
                              source=doc.source)
    out.write(formats[args.format].render(result, args.explain))
    return EXIT_OK


# ---- batch


def _batch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..tabular.batch import run_batch

    library = _library(args, args.calendar)
    summary = run_batch(library, args.decision, args.input, args.output, as_of=args.as_of, workers=args.workers,
                        allow_out_of_period=args.allow_out_of_period,
                        progress=False if args.no_progress else None, stderr=err)
    counts = "、".join(f"{code} {n}" for code, n in summary.outcomes.most_common())
    print(f"{summary.rows} 行已评估,写入 {args.output};{summary.errors} 行有错误" + (f";结论:{counts}" if counts else ""),
          file=err)
    return EXIT_FINDINGS if summary.errors else EXIT_OK


# ---- test


def _test(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..analysis.tester import run_paths

    paths = args.paths or [str(policies_dir(args.policies))]
    report = run_paths(paths, policies=args.policies)
    out.write(report.render(verbose=args.verbose))
    return EXIT_OK if report.ok else EXIT_FINDINGS


# ---- list, functions


def _list(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    library = _library(args)
    rows: list[tuple[str, ...]] = [("决定", "名称", "版本", "有效期")]
    broken = 0
    for region in library.regions():
        try:
            infos = library.decisions(region)
        except SkillcertError as exc:  # list the others; say which pack could not be read
            broken += 1
            _print_error(exc, err)
            continue
        for info in infos:
            period = f"{info.valid_from} 至 {info.valid_until}" if info.valid_until else f"{info.valid_from} 起"
            rows.append((info.id, info.title, info.version, period))
    from ..render.text import format_table

    out.write("\n".join(format_table(rows, rule=False)) + "\n")
    return EXIT_ERROR if broken else EXIT_OK


def _functions(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .. import plugins

    for name, spec in sorted(plugins.functions(plugins.plugin_manager()).items()):
        print(f"{name:22} {spec.doc}", file=out)
    return EXIT_OK


if __name__ == "__main__":
    main()
