"""The ``skillcert`` command line (see shared/CONTRACT.md): the entry points and how failures are reported.

``run(argv, stdout, stderr)`` returns the exit code, so tests call it in-process; ``main()`` is the console script
(and ``python -m skillcert``). Exit codes: 0 success; 1 validation findings, failed pack tests or batch rows with
errors; 2 bad input, refused, or could not run. No traceback reaches the user: every expected failure is a
:class:`~skillcert.errors.SkillcertError`, printed as ``skillcert: [location: ]code: message``; anything else is
reported as an internal error in one line (``SKILLCERT_DEBUG=1`` shows the traceback).

The package has one module per command (:mod:`.validate`, :mod:`.evaluate`, :mod:`.test`, :mod:`.batch`,
:mod:`.list`, :mod:`.functions`, :mod:`.verify`, :mod:`.diff`, :mod:`.serve`), each with ``add_parser(sub)`` and ``run(args, out, err)``; :mod:`.parser` builds
the parser and makes argparse speak Chinese; :mod:`.common` has what the commands share. Heavy modules
(pydantic, jsonschema) are imported only by the commands that need them, so ``skillcert --help`` starts fast.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TextIO

from ..errors import SkillcertError, UsageError
from . import batch, diff, evaluate, functions, serve, test, validate, verify
from . import list as list_command
from .common import EXIT_ERROR, EXIT_OK, os_error_text, print_error
from .parser import build_parser, chinese_argparse

__all__ = ["run", "main"]

COMMANDS = (validate, evaluate, test, batch, list_command, functions, verify, diff, serve)  # in the order the help lists them


def run(argv: list[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        with chinese_argparse(), contextlib.redirect_stdout(out):  # --help and --version go to the caller's stream
            args = build_parser(COMMANDS).parse_args(argv)
        code: int = args.run(args, out, err)
        return code
    except SkillcertError as exc:
        print_error(exc, err)
        return EXIT_ERROR
    except SystemExit as exc:  # --help, --version
        return int(exc.code or 0)
    except KeyboardInterrupt:
        print("已中断", file=err)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:  # a file that cannot be read or written is the caller's to fix: say which
        if exc.filename is None or os.environ.get("SKILLCERT_DEBUG"):
            return _internal_error(exc, err)
        names = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
        print_error(UsageError(f"无法读写 {names}:{os_error_text(exc)}"), err)
        return EXIT_ERROR
    except Exception as exc:
        return _internal_error(exc, err)


def _internal_error(exc: Exception, err: TextIO) -> int:
    """A bug: say so in one line; SKILLCERT_DEBUG=1 shows the traceback."""
    if os.environ.get("SKILLCERT_DEBUG"):
        raise exc
    print(f"skillcert: internal-error: 内部错误({type(exc).__name__}: {exc})。这是 skillcert 的缺陷,"
          "请附上命令和输入报告;设置 SKILLCERT_DEBUG=1 可显示详细堆栈。", file=err)
    return EXIT_ERROR


def main() -> None:
    sys.exit(run())
