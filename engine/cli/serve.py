"""``skillcert serve``: the HTTP API (and, later, the web workspace) on this machine or an intranet server.

Checks that the ``[server]`` extra is installed (and says how to install it when not), opens the decision log (a
SQLite file under ``--data``, or ``--database-url``), builds the application (:func:`skillcert.server.create_app`)
and runs it with uvicorn until stopped. Bound to anything but this machine, a token (``--token``, or a tokens file
``--tokens`` with read-only and evaluating tokens) is required.

With ``--workers N`` (N > 1) uvicorn starts N processes, each building its own application
(:mod:`skillcert.server.workers`). Everything is checked here first (packs, tokens, address) and the log created and
migrated, so the workers only open it; SQLite is opened in WAL mode with a busy timeout by the store, so several
writer processes wait for each other instead of failing.
"""

from __future__ import annotations

import argparse
import errno
import importlib.util
import os
import socket
from pathlib import Path
from typing import Any, TextIO

from ..errors import UsageError
from .common import EXIT_ERROR, EXIT_OK, load_library, os_error_text, require_schemas
from .parser import add_command, positive_int_arg

__all__ = ["add_parser", "run", "default_data_dir", "SERVER_MODULES"]

SERVER_MODULES = ("fastapi", "uvicorn", "sqlalchemy")  # what `pip install "skillcert[server]"` brings
LOG_FILE = "decision-log.sqlite3"


def add_parser(sub: Any) -> None:
    p = add_command(
        sub, "serve", summary="启动 HTTP 接口(/api/v1)与决定日志",
        description="在本机或内网服务器上启动 HTTP 接口:列出决定、取输入的 JSON Schema、评估个案(单个或 JSON Lines "
                    "批量)、查阅决定日志;接口说明见 /openapi.json。每次评估都记入决定日志(默认是 --data 目录下的 "
                    f"SQLite 文件 {LOG_FILE},首次启动时创建)。\n"
                    "监听 127.0.0.1 以外的地址时必须用 --token 或 --tokens 设置访问令牌,请求须带 "
                    "Authorization: Bearer <令牌>。\n"
                    '需要可选组件:pip install "skillcert[server]"。按 Ctrl+C 停止。',
        examples=["skillcert serve",
                  "skillcert serve --port 8080 --data ./日志",
                  "skillcert serve --host 0.0.0.0 --token 令牌",
                  "skillcert serve --host 0.0.0.0 --tokens 令牌.txt --workers 2",
                  "skillcert serve --database-url postgresql+psycopg://主机/库"],
        exit_codes=[(0, "已停止"), (2, "无法启动(未安装 [server] 组件、缺少令牌、端口被占用、数据库无法打开等)")],
        environment=["SKILLCERT_POLICIES", "SKILLCERT_SCHEMAS", "SKILLCERT_NO_CACHE", "SKILLCERT_CACHE_DIR",
                     "SKILLCERT_DEBUG"],
        run=run)
    p.add_argument("--host", default="127.0.0.1", metavar="HOST",
                   help="监听的地址(默认 127.0.0.1,只有本机可以访问)")
    p.add_argument("--port", type=positive_int_arg, default=8000, metavar="PORT", help="端口(默认 8000)")
    p.add_argument("--data", metavar="DIR", default=None,
                   help=f"数据目录,决定日志 {LOG_FILE} 与网页批量评估的文件存放于此(默认为当前用户的数据目录,"
                        "如 ~/.local/share/skillcert)")
    p.add_argument("--database-url", metavar="URL", default=None,
                   help="决定日志所用的数据库(SQLAlchemy 地址,如 PostgreSQL);给出时不用 --data 下的 SQLite 文件")
    p.add_argument("--token", metavar="TOKEN", default=None,
                   help="访问令牌:接口的每个请求须带 Authorization: Bearer <令牌>;此令牌可读取也可评估。"
                        "监听本机以外的地址时必须给出 --token 或 --tokens")
    p.add_argument("--tokens", metavar="FILE", default=None,
                   help="令牌文件,每行“角色 令牌”,# 之后为注释。角色 read:只读(决定列表、输入说明、决定日志);"
                        "evaluate:还可评估个案与重新评估日志中的决定。令牌至少 8 个字符,可与 --token 同用")
    p.add_argument("--max-upload", type=positive_int_arg, default=50, metavar="MIB",
                   help="网页批量评估上传文件的大小上限,单位 MiB(默认 50);上传的文件与结果工作簿保存在 --data 目录下的 "
                        "batches 中")
    p.add_argument("--workers", type=positive_int_arg, default=1, metavar="N",
                   help="服务进程数(默认 1);多核机器上可设为核数,各进程共用同一决定日志")


def default_data_dir() -> Path:
    """The user's data folder for skillcert: platformdirs' answer, or $XDG_DATA_HOME/skillcert."""
    try:
        import platformdirs
    except ImportError:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        return Path(base) / "skillcert"
    return Path(platformdirs.user_data_dir("skillcert", appauthor=False))


def missing_modules() -> list[str]:
    return [m for m in SERVER_MODULES if importlib.util.find_spec(m) is None]


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    missing = missing_modules()
    if missing:
        print(f"skillcert: server-missing: 未安装 HTTP 服务所需的组件({'、'.join(missing)})。请安装:\n"
              '  pip install "skillcert[server]"\n'
              '(在源码目录中:pip install -e ".[server]")', file=err)
        return EXIT_ERROR
    import uvicorn

    from ..audit.store import LogStore
    from ..server import Settings, create_app
    from ..server.settings import read_tokens

    require_schemas()
    library = load_library(args)
    tokens = read_tokens(args.tokens) if args.tokens else ()
    folder = Path(args.data) if args.data else default_data_dir()
    settings = Settings(host=args.host, port=args.port, token=args.token, tokens=tokens, data=str(folder),
                        max_upload=args.max_upload << 20)
    if args.database_url:
        store = LogStore(args.database_url)
        where = "数据库"
    else:
        try:
            store = LogStore.sqlite(folder / LOG_FILE)
        except OSError as exc:
            raise UsageError(f"无法创建数据目录 {folder}:{exc.strerror or exc}") from None
        where = str(folder / LOG_FILE)
    app = create_app(library, store, settings)  # with several workers too: every refusal is said here, once
    _check_port(args.host, args.port)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    workers = f",{args.workers} 个服务进程" if args.workers > 1 else ""
    print(f"skillcert serve:网页工作台 http://{shown}:{args.port}/ ;HTTP 接口 http://{shown}:{args.port}/api/v1 "
          f"(接口说明 /openapi.json);决定日志:{where}{workers};按 Ctrl+C 停止", file=err)
    try:
        if args.workers > 1:
            from ..server.workers import run_workers

            store.close()  # created and migrated: each worker opens its own
            run_workers(args.workers, getattr(args, "policies", None), store.url, settings)
        else:
            uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    except SystemExit as exc:  # uvicorn's own exit when it could not start (said on the line above)
        return EXIT_ERROR if exc.code else EXIT_OK
    finally:
        store.close()
    return EXIT_OK


def _check_port(host: str, port: int) -> None:
    """Said in Chinese before uvicorn tries (and says it in English with exit 3): the address cannot be used."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no obstacle
            probe.bind((host.strip("[]"), port))
    except OSError as exc:
        reason = "端口已被占用" if exc.errno == errno.EADDRINUSE else os_error_text(exc)
        raise UsageError(f"无法监听 {host}:{port}:{reason}") from None

