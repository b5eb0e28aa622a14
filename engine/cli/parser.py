"""The ``skillcert`` argument parser, in Chinese: argparse's setup, help layout and argparse's own texts.

This module owns what argparse shows: the usage line (``用法:``), group titles, ``-h/--help`` and
``--version``, the help sections every command has (示例, 退出码, 环境变量), and argparse's own error messages.
The commands add their parsers through :func:`add_command`; each command module owns its options and is
handed to :func:`build_parser` by the package (this module imports none of them).

argparse takes its texts from the module-level ``argparse._`` and ``argparse.ngettext`` at the moment it needs
them. :func:`chinese_argparse` puts translating versions there while *our* parser runs and restores the
originals afterwards; the translating versions answer in Chinese only inside that context (a context variable),
so another thread that uses argparse meanwhile still sees argparse's own texts.

Only the standard library is imported here: ``skillcert --help`` must start fast.
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import datetime as dt
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NoReturn, Protocol

from ..errors import UsageError
from ..render.table import display_width as _width  # CJK characters take two columns

__all__ = ["Command", "build_parser", "chinese_argparse", "add_command", "add_policies_option", "date_arg",
           "positive_int_arg", "epilog", "ENVIRONMENT", "USAGE_PREFIX"]

PROG = "skillcert"
USAGE_PREFIX = "用法: "

# argparse's texts (Python 3.11's msgids; an id missing here keeps argparse's own text, which the tests catch).
_MESSAGES = {
    "usage: ": USAGE_PREFIX,
    "positional arguments": "位置参数",
    "options": "选项",
    "optional arguments": "选项",  # before Python 3.10
    "subcommands": "命令",
    "show this help message and exit": "显示此帮助信息并退出",
    "show program's version number and exit": "显示版本号并退出",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s:%(message)s",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "未知的命令 %(parser_name)r(可用:%(choices)s)",
    "can't open '%(filename)s': %(error)s": "无法打开 '%(filename)s':%(error)s",
    "unrecognized arguments: %s": "无法识别的参数:%s",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "ignored explicit argument %r": "该选项不接受值,多余的 %r",
    "the following arguments are required: %s": "缺少必需的参数:%s",
    "one of the arguments %s is required": "参数 %s 中必须给出一个",
    "expected one argument": "需要一个值",
    "expected at most one argument": "最多接受一个值",
    "expected at least one argument": "至少需要一个值",
    "ambiguous option: %(option)s could match %(matches)s": "有歧义的选项:%(option)s 可能是 %(matches)s",
    "unexpected option string: %s": "意外的选项:%s",
    "invalid %(type)s value: %(value)r": "无效的 %(type)s 值:%(value)r",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选择:%(value)r(可选:%(choices)s)",
    "%(prog)s: error: %(message)s\n": "%(prog)s:错误:%(message)s\n",
    "%r is not callable": "%r 不可调用",
}
_PLURAL_MESSAGES = {
    "expected %s argument": "需要 %s 个值",
}

_chinese = contextvars.ContextVar("skillcert_cli_chinese", default=False)
_lock = threading.Lock()
_depth = 0
_originals: tuple[Callable[[str], str], Callable[[str, str, int], str]] | None = None


def _gettext(message: str) -> str:
    if _chinese.get() and message in _MESSAGES:
        return _MESSAGES[message]
    return _originals[0](message) if _originals else message


def _ngettext(singular: str, plural: str, n: int) -> str:
    if _chinese.get() and singular in _PLURAL_MESSAGES:
        return _PLURAL_MESSAGES[singular]
    if _originals:
        return _originals[1](singular, plural, n)
    return singular if n == 1 else plural


@contextlib.contextmanager
def chinese_argparse() -> Iterator[None]:
    """argparse speaks Chinese to this context while it lasts; to everyone else it says what it always says."""
    global _depth, _originals
    with _lock:
        if _depth == 0:
            _originals = (getattr(argparse, "_", _identity), getattr(argparse, "ngettext", _plural))
            argparse._ = _gettext  # type: ignore[attr-defined]
            argparse.ngettext = _ngettext  # type: ignore[attr-defined]
        _depth += 1
    token = _chinese.set(True)
    try:
        yield
    finally:
        _chinese.reset(token)
        with _lock:
            _depth -= 1
            if _depth == 0 and _originals is not None:
                # put back what was there, unless someone else replaced our functions in the meantime
                # (_originals stays set: a thread that fetched _gettext just before keeps getting argparse's text)
                if getattr(argparse, "_", None) is _gettext:
                    argparse._ = _originals[0]  # type: ignore[attr-defined]
                if getattr(argparse, "ngettext", None) is _ngettext:
                    argparse.ngettext = _originals[1]  # type: ignore[attr-defined]


def _identity(message: str) -> str:
    return message


def _plural(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


# ---- layout




_TOKENS = re.compile(r"\s+|[)\]},.;:!?]+|[\x21-\x7e]+|.")  # closing punctuation apart: it may hang
_NO_LINE_START = set(",。、;:!?)》」』】,.;:!?)")
_NO_LINE_END = set("(《「『【(")


def _wrap(text: str, width: int) -> list[str]:
    """Greedy wrapping by display width: ASCII words stay whole, a CJK text breaks between characters (not
    before closing punctuation nor after an opening bracket)."""
    lines: list[str] = []
    line, used = "", 0
    for token in _TOKENS.findall(" ".join(text.split())):
        w = _width(token)
        if token.isspace():
            if line:
                line, used = line + " ", used + 1
            continue
        if line and used + w > width and token[0] not in _NO_LINE_START:
            line = line.rstrip()
            carried = line[-1] if line[-1] in _NO_LINE_END and len(line) > 1 else ""
            lines.append(line[:len(line) - len(carried)].rstrip())
            line, used = carried, _width(carried)
        line, used = line + token, used + w
    if line.strip():
        lines.append(line.rstrip())
    return lines


_TWO_COLUMNS = re.compile(r"\s*(?:\S+ {2,})?")  # "  NAME  text": continuation lines start under "text"


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and epilogs keep their lines (a line too long for the terminal is wrapped by display width,
    under its own text); option help wrapped by display width; a Chinese usage prefix."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        lines: list[str] = []
        for line in text.splitlines():
            if not line.strip() or _width(line) <= width - len(indent):
                lines.append(indent + line if line.strip() else "")
                continue
            head = _TWO_COLUMNS.match(line).group(0)  # type: ignore[union-attr]  # matches any line
            room = width - len(indent) - _width(head)
            if room < 20:  # a narrow terminal: hang by four spaces instead
                head = line[:len(line) - len(line.lstrip())]
                room = max(width - len(indent) - _width(head) - 4, 20)
                wrapped = _wrap(line, room)
                lines += [indent + head + wrapped[0]] + [indent + head + "    " + w for w in wrapped[1:]]
                continue
            wrapped = _wrap(line[len(head):], room)
            lines += [indent + head + wrapped[0]] + [indent + " " * _width(head) + w for w in wrapped[1:]]
        return "\n".join(lines)

    def _split_lines(self, text: str, width: int) -> list[str]:
        return _wrap(text, width)

    def _format_usage(self, usage: str | None, actions: Iterable[argparse.Action],
                      groups: Iterable[Any], prefix: str | None) -> str:
        if prefix is None:  # argparse indents continuation lines by len(prefix): give it one as wide as ours
            pad = " " * _width(USAGE_PREFIX)
            text = super()._format_usage(usage, actions, groups, pad)
            return USAGE_PREFIX + text[len(pad):]
        return super()._format_usage(usage, actions, groups, prefix)


class Parser(argparse.ArgumentParser):
    """Usage errors become :class:`UsageError` (exit 2, ``skillcert: usage-error: …``) instead of argparse's exit."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def _chinese_titles(parser: argparse.ArgumentParser) -> None:
    parser._positionals.title = "位置参数"
    parser._optionals.title = "选项"
    parser.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="显示此帮助信息并退出")


class _Version(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("skillcert")
        except PackageNotFoundError:
            raise UsageError("找不到 skillcert 的安装信息(请先 pip install skillcert 或 pip install -e .)") from None
        print(f"{PROG} {number}")
        parser.exit(0)


# ---- the help sections every command has

ENVIRONMENT = {
    "SKILLCERT_POLICIES": "政策包目录,未给出 --policies 时使用(默认为自带的政策包)",
    "SKILLCERT_SCHEMAS": "检查政策包和测试文件所用的 JSON Schema 目录(默认为自带的)",
    "SKILLCERT_NO_CACHE": "设为 1 时不使用缓存(政策包及其文书模板的解析与检查结果)",
    "SKILLCERT_CACHE_DIR": "缓存的位置(默认 ~/.cache/skillcert)",
    "SKILLCERT_REFERENCE_EVALUATOR": "设为 1 时用参考求值器(逐棵表达式树求值,结果相同、较慢)",
    "SKILLCERT_DECISION_CODE": "设为 0 时不把决定生成为 Python 函数、全部由解释器计算(结果相同、较慢;排查问题用)",
    "SKILLCERT_DEBUG": "设为 1 时,内部错误显示完整堆栈",
}


def epilog(examples: Sequence[str], exit_codes: Sequence[tuple[int, str]], environment: Sequence[str]) -> str:
    """The 示例 / 退出码 / 环境变量 sections of a command's help."""
    lines = ["示例:"]
    lines += [f"  {line}" for e in examples for line in e.splitlines()]
    lines += ["", "退出码:"]
    lines += [f"  {code}  {meaning}" for code, meaning in exit_codes]
    lines += ["", "环境变量:"]
    name_width = max(len(n) for n in environment)
    lines += [f"  {name:{name_width}}  {ENVIRONMENT[name]}" for name in environment]
    return "\n".join(lines)


def add_policies_option(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """``--policies DIR``: on the top parser (default None) and again on each command, where it is only set when
    given, so ``skillcert --policies X list`` and ``skillcert list --policies X`` mean the same."""
    parser.add_argument("--policies", metavar="DIR", default=None if top else argparse.SUPPRESS,
                        help="政策包目录(默认为环境变量 SKILLCERT_POLICIES,否则为自带的政策包);"
                             "可写在命令之前或之后")


def add_command(sub: Any, name: str, *, summary: str, description: str, examples: Sequence[str],
                exit_codes: Sequence[tuple[int, str]], environment: Sequence[str],
                run: Callable[[argparse.Namespace, Any, Any], int]) -> argparse.ArgumentParser:
    """A command's parser with Chinese help, ``--policies`` and the handler ``run`` as its default."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=summary, description=description, add_help=False, formatter_class=HelpFormatter,
        epilog=epilog(examples, exit_codes, environment))
    _chinese_titles(parser)
    add_policies_option(parser)
    parser.set_defaults(run=run)
    return parser


def date_arg(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期应写作 YYYY-MM-DD,收到 '{text}'") from None


def positive_int_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"应是正整数,收到 '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"至少为 1,收到 {value}")
    return value


# ---- the parser


TOP_DESCRIPTION = ("skillcert:声明式政策规则引擎。政策包(YAML)写明规则、评分和期限,skillcert 按它对一个个案的"
                   "事实作出决定,并检查、测试政策包。")

TOP_EXAMPLES = [
    "skillcert list",
    "skillcert evaluate chongqing/renewal \\\n"
    "  policies/chongqing/examples/renewal-social-org.yaml --as-of 2025-05-25",
    "skillcert validate",
    "skillcert --policies ./my-packs test",
    "skillcert <命令> --help          某个命令的说明",
]
TOP_EXIT_CODES = [
    (0, "成功"),
    (1, "有所发现:问题、失败、错行、不符、结论改变(见各命令的 --help)"),
    (2, "用法错误、输入有误、被拒绝或无法运行(消息写在标准错误上)"),
]


class Command(Protocol):
    """A command module: it adds its parser (with ``run`` as the handler) to the subparsers."""

    def add_parser(self, sub: Any) -> None: ...


def build_parser(commands: Sequence[Command]) -> argparse.ArgumentParser:
    """The ``skillcert`` parser with the given commands, in this order."""
    parser = Parser(prog=PROG, description=TOP_DESCRIPTION, add_help=False, formatter_class=HelpFormatter,
                    epilog=epilog(TOP_EXAMPLES, TOP_EXIT_CODES, [*ENVIRONMENT]))
    _chinese_titles(parser)
    parser.add_argument("--version", action=_Version, help="显示版本号并退出")
    add_policies_option(parser, top=True)
    sub = parser.add_subparsers(title="命令", dest="command", metavar="COMMAND", required=True)
    for command in commands:
        command.add_parser(sub)
    return parser
