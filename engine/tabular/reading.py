"""Reading rows: the input files of a batch (CSV, XLSX, JSON Lines, YAML list) as a header and raw rows.

A raw row is a mapping from column (or key) to cell, as the file has it: text for CSV, spreadsheet values for
XLSX, JSON values for JSON Lines, YAML values for a YAML list. Which column is which input is
:mod:`skillcert.rows.columns`' business; this module only asks, through ``is_header``, whether a row can be the
header, so that a title row above it is skipped (the header is searched for in the first
:data:`~skillcert.rows.limits.HEADER_SEARCH_ROWS` rows that are not empty). Rows stream through (a YAML list is the
exception: YAML is read whole, up to :data:`~skillcert.rows.limits.MAX_YAML_BYTES`).

A CSV file whose lines all end with LF (or CR LF) and none is long can also be handed on in blocks of its bytes
cut where records end (:attr:`Table.blocks`, :func:`csv_blocks`), parsed by the process that evaluates them
(:func:`block_rows`) into exactly the rows read in order would give; a block cut inside a record (a quote inside
a cell that is not quoted misleads the cut) is detected there, and the file is read on in order from it
(:func:`csv_rows_from`).

Text files are read as UTF-8 (with or without a byte order mark) or, when they are not UTF-8, as GB18030 (which
includes GBK, what Chinese Excel saves as "CSV"); the encoding used is among the :attr:`Table.notes` told to the
user. A file that is neither, an XLSX file that is not one (renamed, corrupt), a folder, a header with a column
name over :data:`~skillcert.rows.limits.MAX_HEADER_CELL_CHARS` or more than
:data:`~skillcert.rows.limits.MAX_COLUMNS` columns is a :class:`~skillcert.errors.UsageError` with a code: the run
does not start. A row that cannot be read — a line over :data:`~skillcert.rows.limits.MAX_LINE_CHARS` (read past
in bounded memory, never held), a cell over :data:`~skillcert.rows.limits.MAX_CELL_CHARS`, cells beyond the
header or under a column without a name, a JSON line that is not an object or is nested deeper than
:data:`~skillcert.rows.limits.MAX_JSON_DEPTH` — becomes ``{ERROR_KEY: RowError(code, message)}`` (with the row's
readable cells, so that its ids still show), so that the error lands in its own output row and the run goes on.
"""

from __future__ import annotations

import codecs
import collections
import contextlib
import csv
import io
import json
import operator
import re
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..errors import Location, SkillcertError, UsageError
from ..rows.columns import ERROR_KEY, JSON_DECODER, RowError, json_too_deep
from ..rows.limits import (
    HEADER_SEARCH_ROWS,
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_HEADER_CELL_CHARS,
    MAX_JSON_DEPTH,
    MAX_LINE_CHARS,
    MAX_XLSX_TEXT_BYTES,
    MAX_YAML_BYTES,
)

__all__ = ["INPUT_FORMATS", "ERROR_KEY", "Row", "Table", "read_table", "read_rows", "row_mapping", "count_rows",
           "format_of", "check_input", "detect_encoding", "ENCODINGS", "CsvBlock", "csv_blocks", "block_rows",
           "csv_rows_from", "BLOCK_BYTES"]

INPUT_FORMATS = (".csv", ".xlsx", ".jsonl", ".yaml", ".yml")
ENCODINGS = {"utf-8-sig": "UTF-8", "gb18030": "GB18030(含 GBK)"}  # tried in this order
_SAVE_AS = "请另存为 UTF-8 CSV 或 XLSX"
_KEEP = 200        # of a line too long to read: the characters kept at each end (for the CSV reader's quotes)
_READ = 1 << 20    # characters read at a time past a line too long
_KEYED_PEEK = 1_000  # JSON Lines / YAML: rows looked at for the first one that is readable (its keys: the header)

IsHeader = Callable[[Sequence[Any]], bool]


# A row of a file with a header (CSV, XLSX): its cells in a list, in the header's order (as many as the file has),
# or ``(cells, RowError)`` for a row that could not be read whole (cells too long are left empty).
Row = list[Any] | tuple[list[Any], RowError]


@dataclass
class Table:
    """An input file opened for reading: its header, its rows (an iterator) and what to tell the user. Rows of
    a file with a header (``keyed`` False) are :data:`Row` lists of cells; rows with their own keys (JSON Lines,
    YAML) are mappings (see :func:`read_rows` for mappings from every file)."""

    header: list[str]
    rows: Iterator[Any]
    header_row: int = 1        # the file's row of the header (1-based); 0 for JSON Lines and YAML
    keyed: bool = False        # JSON Lines / YAML: each row has its own keys (the header: the first row's)
    found: bool = True         # False when ``is_header`` matched no row (the first row is taken as the header)
    notes: list[str] = field(default_factory=list)
    closer: Callable[[], None] | None = None  # releases the file when the rows are not read to their end
    # CSV whose records can be cut into blocks (see csv_blocks): the records after the rows read so far, in blocks
    # (the rows are closed); None when the file cannot be read so
    blocks: Callable[[], Iterator[CsvBlock]] | None = None

    def close(self) -> None:
        """Release the file (the rows read or not)."""
        close = getattr(self.rows, "close", None)
        if close is not None:
            close()
        if self.closer is not None:
            self.closer()


def format_of(path: Path, allowed: tuple[str, ...], what: str) -> str:
    """The format of a file by its extension, one of ``allowed``; ``what`` says which file (输入/输出)."""
    suffix = path.suffix.lower()
    if suffix not in allowed:
        raise UsageError(f"{what}文件 {path} 的格式不受支持:按扩展名识别,可用 {'、'.join(allowed)}")
    return suffix


def check_input(path: Path) -> str:
    """The input's format, once the file is known to be a readable file (not a folder, not missing)."""
    fmt = format_of(path, INPUT_FORMATS, "输入")
    if path.is_dir():
        raise UsageError(f"输入文件 {path} 是一个目录,不是文件")
    if not path.is_file():
        raise UsageError(f"输入文件不存在:{path}")
    return fmt


def read_table(path: str | Path, is_header: IsHeader | None = None) -> Table:
    """The input file at ``path``, opened; see the module doc."""
    p = Path(path)
    fmt = check_input(p)
    if fmt == ".csv":
        return _csv_table(p, is_header)
    if fmt == ".xlsx":
        return _xlsx_table(p, is_header)
    if fmt == ".jsonl":
        encoding = detect_encoding(p)
        return _keyed_table(_jsonl_rows(p, encoding), [_encoding_note(p, encoding)])
    return _keyed_table(_yaml_rows(p), [])


def read_rows(path: str | Path) -> tuple[list[str] | None, Iterator[dict[str, Any]]]:
    """The header (None for JSONL/YAML) and an iterator over the rows of an input file, as raw mappings (a row
    that could not be read whole has its :class:`RowError` under :data:`ERROR_KEY`)."""
    table = read_table(path)
    if table.keyed:
        return None, table.rows
    return table.header, (row_mapping(table.header, row) for row in table.rows)


def row_mapping(names: Sequence[str], row: Row) -> dict[str, Any]:
    """A :data:`Row` as a mapping from column name to cell (columns without a name left out)."""
    cells, problem = (row, None) if row.__class__ is list else row
    mapping: dict[str, Any] = {h: cells[i] for i, h in enumerate(names[:len(cells)]) if h}
    if problem is not None:
        mapping[ERROR_KEY] = problem
    return mapping


# --------------------------------------------------------------------------------------------------
# Text files: encoding, bounded lines


def detect_encoding(p: Path) -> str:
    """``utf-8-sig`` or ``gb18030``: the first of :data:`ENCODINGS` the whole file decodes with (read in chunks)."""
    return _scan(p)[0]


def _scan(p: Path) -> tuple[str, bool, bool]:
    """The file's encoding (see :func:`detect_encoding`), whether a line may be longer than
    :data:`MAX_CELL_CHARS` (some block of :data:`_BLOCK` bytes has no line break), and whether a line may end
    with a carriage return alone (some ``\r`` is not followed by ``\n``)."""
    with open(p, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"PK\x03\x04"):
        raise UsageError(f"输入文件 {p} 是 XLSX(ZIP)文件而不是文本;若是 XLSX,请把扩展名改为 .xlsx",
                         code="encoding-unknown")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UsageError(f"输入文件 {p} 是旧版 Excel(.xls)文件;{_SAVE_AS}", code="encoding-unknown")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UsageError(f"输入文件 {p} 是 UTF-16 编码(Excel 的“Unicode 文本”);{_SAVE_AS}", code="encoding-unknown")
    for encoding in ENCODINGS:
        scanned = _decodes(p, encoding)
        if scanned is not None:
            return encoding, *scanned
    raise UsageError(f"输入文件 {p} 既不是 UTF-8 也不是 GB18030/GBK 编码的文本,无法读取;{_SAVE_AS}",
                     code="encoding-unknown")


_BLOCK = 8192  # a line longer than twice this holds a whole block without a line break (checked at C speed)
_CHUNK = 128 * _BLOCK


def _decodes(p: Path, encoding: str) -> tuple[bool, bool] | None:
    """None when the file does not decode with ``encoding``; else whether a line may be long, and whether one
    may end with a carriage return alone."""
    decoder = codecs.getincrementaldecoder(encoding)()
    long_lines = bare_cr = False
    try:
        with open(p, "rb") as fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                decoder.decode(chunk)
                if not long_lines:
                    find = chunk.find
                    long_lines = any(find(b"\n", i, i + _BLOCK) < 0 for i in range(0, len(chunk) - _BLOCK + 1, _BLOCK))
                if not bare_cr and b"\r" in chunk:  # (a CR LF split between two chunks counts: merely cautious)
                    bare_cr = chunk.count(b"\r") != chunk.count(b"\r\n")
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    return long_lines, bare_cr


def _encoding_note(p: Path, encoding: str) -> str:
    return f"{p.name}:按 {ENCODINGS[encoding]} 编码读取"


def _bounded_lines(fh: TextIO, long_lines: collections.deque[tuple[int, bool]]) -> Iterator[str]:
    """The lines of ``fh``; a line over :data:`MAX_LINE_CHARS` is read past and replaced by its two ends (so that
    a CSV reader's quotes stay paired), and noted in ``long_lines`` as ``(line, True)``; a line over
    :data:`MAX_CELL_CHARS` (it may hold a cell too long) as ``(line, False)``."""
    readline = fh.readline
    n = 0
    while True:
        line = readline(MAX_LINE_CHARS)
        if not line:
            return
        n += 1
        if len(line) > MAX_CELL_CHARS:
            cut = len(line) >= MAX_LINE_CHARS and line[-1] not in "\r\n"
            if cut:
                line = _ends_of(line, readline)
            long_lines.append((n, cut))
        yield line


def _ends_of(line: str, readline: Callable[[int], str]) -> str:
    """A line too long, read to its end without holding it: its first and last characters, with one quote
    between them when the part left out has an odd number of quotes."""
    head, rest = line[:_KEEP], line[_KEEP:]
    quotes = rest.count('"')
    tail = rest[-_KEEP:]
    while rest and rest[-1] not in "\r\n":
        rest = readline(_READ)
        quotes += rest.count('"')
        tail = (tail + rest)[-_KEEP:]
    left_out = quotes - tail.count('"')
    return head + ('"' if left_out % 2 else "") + tail


# --------------------------------------------------------------------------------------------------
# CSV


def _csv_table(p: Path, is_header: IsHeader | None) -> Table:
    encoding, long_lines_maybe, bare_cr = _scan(p)
    if csv.field_size_limit() < MAX_LINE_CHARS:
        csv.field_size_limit(MAX_LINE_CHARS)  # one cell may fill a line; longer ones are the row's error
    fh = open(p, encoding=encoding, newline="")  # noqa: SIM115 - closed by the rows' generator
    long_lines: collections.deque[tuple[int, bool]] = collections.deque()
    # no line can hold a cell too long: the file's own lines, at full speed
    reader = csv.reader(_bounded_lines(fh, long_lines) if long_lines_maybe else fh)

    def records() -> Iterator[tuple[int, list[str], Any]]:
        """(line, cells, what is too long: None, True for the whole line, or the cells' indexes)."""
        last = 0
        try:
            for values in reader:
                at = reader.line_num
                yield at, values, _too_long(values, at, last, long_lines)
                last = at
        except csv.Error as exc:
            raise _csv_error(p, reader.line_num, exc) from None

    try:
        source = records()
        found, line, header, before = _find_header(source, is_header, lambda values: not any(v.strip() for v in values))
    except BaseException:
        fh.close()
        raise
    notes = [_encoding_note(p, encoding)]
    if header is None:
        fh.close()
        return Table([], iter(()), 0, notes=notes)
    names = _header_names(p, line, header[1], header[2])
    if before:
        notes.append(f"表头在第 {line} 行,上面的 {before} 行(标题等)未读取")

    def rows() -> Iterator[Row]:
        with fh:
            yield from _csv_rows(p, reader, 0, line, names, long_lines)

    table = Table(names, rows(), line, found=found, notes=notes, closer=fh.close)
    if not long_lines_maybe and not bare_cr:  # lines are the file's own, each ending in LF: blocks can be cut
        def blocks() -> Iterator[CsvBlock]:
            table.close()  # the rows read so far end on the reader's line
            yield from csv_blocks(p, encoding, reader.line_num)
        table.blocks = blocks
    return table


def _csv_error(p: Path, line: int, exc: csv.Error) -> UsageError:
    return UsageError(f"{p}:第 {line} 行附近无法按 CSV 读取({exc});可能是引号不成对,其后的行无法"
                      "可靠地分开", code="csv-invalid", location=Location(str(p), line))


def _csv_rows(p: Path, reader: Any, base: int, line: int, names: list[str],
              long_lines: collections.deque[tuple[int, bool]]) -> Iterator[Row]:
    """The rows of ``reader``'s records, which follow line ``line`` of the file (``base``: the file's line
    before the reader's first)."""
    n = len(names)
    blanks = [i for i, h in enumerate(names) if not h]
    last = line
    try:
        for values in reader:  # the records after the header (the header search read up to it)
            at = base + reader.line_num
            too_long = _too_long(values, at, last, long_lines) if long_lines or at - last > 1 else None
            last = at
            if too_long is None and not any(map(_strip, values)):
                continue
            if too_long is True:
                yield [], RowError("row-too-long", f"第 {at} 行超过 {MAX_LINE_CHARS} 个字符,未读取")
                continue
            problem = _too_long_cells(at, values, too_long, names) if too_long else None
            if problem is None and (len(values) > n or blanks):
                problem = _unnamed_cells(at, values, names, blanks)
            yield values if problem is None else (values, problem)
    except csv.Error as exc:
        raise _csv_error(p, base + reader.line_num, exc) from None


# --------------------------------------------------------------------------------------------------
# CSV in blocks: whole records as bytes, read by the process that evaluates them

BLOCK_BYTES = 256 * 1024  # a block of records (a record longer than this makes its block longer)
_MAX_BLOCK = 64 * BLOCK_BYTES  # no record end found in this much: read on in order (see csv_blocks)
_END_OF_BLOCK = "\ufdd0"  # a line after a block: a record of its own when the block's last record was whole


@dataclass(frozen=True)
class CsvBlock:
    """Whole records of a CSV file as its bytes (see :func:`csv_blocks`): ``line`` is the file's line before the
    first, ``offset`` where they start; ``path`` and ``encoding`` say how to read on from there in order."""

    data: bytes
    path: str
    encoding: str
    line: int
    offset: int


def csv_blocks(p: Path, encoding: str, line: int) -> Iterator[CsvBlock]:
    """The file's records after line ``line``, in blocks of about :data:`BLOCK_BYTES` cut where a record ends: at
    a line break after an even number of quotes. A quote inside a cell that is not quoted can make such a cut
    fall inside a record; :func:`block_rows` then says so, and the records from there are read in order
    (:func:`csv_rows_from`). A block without a record end within :data:`_MAX_BLOCK` bytes ends the blocks with
    one holding no data: read on from its offset in order.

    The file's lines must each end with LF (or CR LF) and none may be long (what :func:`_scan` says)."""
    with open(p, "rb") as fh:
        offset = 0
        for _ in range(line):  # past the header and the rows already read
            fh.readline()
        offset = fh.tell()
        if encoding == "utf-8-sig":
            encoding = "utf-8"  # the byte order mark is before the header, never in a block
        carry = b""
        while True:
            data = fh.read(BLOCK_BYTES)
            if not data:
                if carry:
                    yield CsvBlock(carry, str(p), encoding, line, offset)
                return
            buffer = carry + data if carry else data
            cut = _record_end(buffer)
            if cut < 0:
                if len(buffer) > _MAX_BLOCK:
                    yield CsvBlock(b"", str(p), encoding, line, offset)
                    return
                carry = buffer
                continue
            block, carry = buffer[:cut], buffer[cut:]
            yield CsvBlock(block, str(p), encoding, line, offset)
            line += block.count(b"\n")
            offset += len(block)


def _record_end(data: bytes) -> int:
    """Where the last record of ``data`` that ends at a line break after an even number of quotes ends; -1 when
    there is none. (Doubled quotes inside quoted cells count two: the parity holds.)"""
    quotes = data.count(b'"')
    end = len(data)
    while True:
        at = data.rfind(b"\n", 0, end)
        if at < 0:
            return -1
        quotes -= data.count(b'"', at, end)
        if quotes % 2 == 0:
            return at + 1
        end = at


def block_rows(block: CsvBlock, names: list[str]) -> list[Row] | None:
    """The rows of a block, exactly as the file read in order gives them; None when the block was not cut where
    a record ends (its last record runs on), or holds no data."""
    if not block.data:
        return None
    if csv.field_size_limit() < MAX_LINE_CHARS:
        csv.field_size_limit(MAX_LINE_CHARS)  # as when the file is read in order (this may be another process)
    text = block.data.decode(block.encoding)
    if text[-1] != "\n":
        text += "\n"
    reader = csv.reader(io.StringIO(f"{text}{_END_OF_BLOCK}\n", newline=""))
    try:
        rows = list(_csv_rows(Path(block.path), reader, block.line, block.line, names, collections.deque()))
    except UsageError:  # said where it happens when the file is read in order
        return None
    if not rows or rows[-1] != [_END_OF_BLOCK]:
        return None
    rows.pop()
    return rows


def csv_rows_from(block: CsvBlock, names: list[str]) -> Iterator[Row]:
    """The rows of the file from ``block`` on, read in order (when blocks cannot be cut where records end)."""
    with open(block.path, "rb") as raw:
        raw.seek(block.offset)
        with io.TextIOWrapper(raw, encoding=block.encoding, newline="") as fh:
            yield from _csv_rows(Path(block.path), csv.reader(fh), block.line, block.line, names,
                                 collections.deque())


def _too_long(values: list[str], at: int, last: int, long_lines: collections.deque[tuple[int, bool]]) -> Any:
    """What is too long in the record that ends on line ``at`` (the previous one ended on ``last``): None, True
    for a line read past, or the indexes of the cells too long."""
    cut = False
    while long_lines and long_lines[0][0] <= at:
        cut = long_lines.popleft()[1] or cut
    if cut:
        return True
    if at - last > 1 or len(values) and max(map(len, values)) > MAX_CELL_CHARS:
        return [i for i, v in enumerate(values) if len(v) > MAX_CELL_CHARS] or None
    return None


def _find_header(source: Iterator[tuple[int, list[Any], Any]], is_header: IsHeader | None,
                 blank: Callable[[list[Any]], bool]) -> tuple[bool, int, tuple[int, list[Any], Any] | None, int]:
    """The header among the first rows of ``source`` that are not empty: (found, its line, the record, the rows
    above it). Without ``is_header``, or when no row is a header, the first row that is not empty."""
    seen: list[tuple[int, list[Any], Any]] = []
    for record in source:
        if record[2] is None and blank(record[1]):
            continue
        if is_header is None or is_header(record[1]):
            return True, record[0], record, len(seen)
        seen.append(record)
        if len(seen) >= HEADER_SEARCH_ROWS:
            break
    if not seen:
        return True, 0, None, 0
    first = seen[0]
    # no header found: the first row stands as the header (its columns are then reported as matching nothing);
    # the rows after it are not needed, as the run stops there
    return False, first[0], first, 0


def _header_names(p: Path, line: int, values: Sequence[Any], too_long: Any) -> list[str]:
    """The column names of a header row, stripped, trailing empty ones dropped; too long or too many: refused."""
    names = ["" if v is None else str(v).strip() for v in values]
    while names and not names[-1]:
        names.pop()
    if too_long is True or any(len(h) > MAX_HEADER_CELL_CHARS for h in names):
        col = next((i for i, h in enumerate(names, 1) if len(h) > MAX_HEADER_CELL_CHARS), 0)
        length = len(names[col - 1]) if col else MAX_LINE_CHARS
        raise UsageError(f"表头第 {col} 列的列名有 {length} 个字符,超过上限 {MAX_HEADER_CELL_CHARS};"
                         "表头应在第一行(或前几行内),每列一个名称", code="header-too-long",
                         location=Location(str(p), line, col))
    if len(names) > MAX_COLUMNS:
        raise UsageError(f"表头有 {len(names)} 列,超过上限 {MAX_COLUMNS} 列", code="too-many-columns",
                         location=Location(str(p), line))
    return names


def _too_long_cells(line: int, values: list[Any], indexes: list[int], names: list[str]) -> RowError:
    for i in indexes:
        values[i] = ""  # not carried over: the output could not hold it either
    cols = "、".join(f"'{names[i]}'" if i < len(names) and names[i] else f"第 {i + 1} 列" for i in indexes)
    return RowError("cell-too-long", f"第 {line} 行 {cols} 的单元格超过 {MAX_CELL_CHARS} 个字符,未读取")


def _unnamed_cells(line: int, values: Sequence[Any], names: list[str], blanks: list[int]) -> RowError | None:
    """Cells that no column name says what they are: beyond the header, or under an empty column name."""
    filled = [i for i in blanks if i < len(values) and _filled(values[i])]
    filled += [i for i in range(len(names), len(values)) if _filled(values[i])]
    if not filled:
        return None
    where = "、".join(f"第 {i + 1} 列" for i in filled[:5]) + ("等" if len(filled) > 5 else "")
    return RowError("row-extra-cells", f"第 {line} 行在{where}有值,但表头在这些列没有列名(共 {len(names)} 列),"
                    "无法知道是哪个输入;请补上列名或删去多余的单元格")


_strip = str.strip
_is_text = str.__instancecheck__
_first = operator.itemgetter(0)


def _filled(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


# --------------------------------------------------------------------------------------------------
# XLSX


def _xlsx_table(p: Path, is_header: IsHeader | None) -> Table:
    import zipfile

    import openpyxl

    def unreadable(exc: BaseException) -> UsageError:
        return UsageError(f"输入文件 {p} 不是有效的 XLSX 文件({type(exc).__name__}: {str(exc)[:200]});"
                          f"若它其实是 CSV 或旧版 .xls,{_SAVE_AS}", code="xlsx-invalid")

    try:
        with zipfile.ZipFile(p) as archive:
            text = sum(i.file_size for i in archive.infolist() if i.filename.lower().endswith("sharedstrings.xml"))
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise unreadable(exc) from None
    if text > MAX_XLSX_TEXT_BYTES:
        raise UsageError(f"输入文件 {p} 的文字表解压后有 {text} 字节,超过上限 {MAX_XLSX_TEXT_BYTES};"
                         "请拆成几个文件或改用 CSV", code="xlsx-too-large")
    try:
        with _sized_at_the_start():
            wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
        sheet = wb.worksheets[0]
        values_iter = _sheet_values(wb, sheet) or sheet.iter_rows(values_only=True)
    except OSError:
        raise
    except Exception as exc:
        raise unreadable(exc) from None
    notes = [f"{p.name}:读取第一张工作表 '{sheet.title}'" + (f"(共 {len(wb.worksheets)} 张,其余未读)"
                                                           if len(wb.worksheets) > 1 else "")]

    def records() -> Iterator[tuple[int, list[Any], Any]]:
        n = 0
        while True:
            try:
                values = next(values_iter, None)
            except Exception as exc:
                raise unreadable(exc) from None
            if values is None:
                return
            n += 1
            too_long = None
            if max(map(len, filter(_is_text, values)), default=0) > MAX_CELL_CHARS:  # (at C speed)
                too_long = [i for i, v in enumerate(values) if v.__class__ is str and len(v) > MAX_CELL_CHARS] or None
            yield n, list(values), too_long

    source = records()
    try:
        found, line, header, before = _find_header(source, is_header, lambda values: not any(map(_filled, values)))
    except BaseException:
        wb.close()
        raise
    if header is None:
        wb.close()
        return Table([], iter(()), 0, notes=notes)
    try:
        names = _header_names(p, line, header[1], None)
    except BaseException:
        wb.close()
        raise
    if before:
        notes.append(f"表头在第 {line} 行,上面的 {before} 行(标题等)未读取")

    def rows() -> Iterator[Row]:
        try:
            n = len(names)
            blanks = [i for i, h in enumerate(names) if not h]
            for at, values, too_long in source:
                if too_long is None and not any(map(_filled, values)):
                    continue
                problem = _too_long_cells(at, values, too_long, names) if too_long else None
                if problem is None and (len(values) > n or blanks):
                    problem = _unnamed_cells(at, values, names, blanks)
                yield values if problem is None else (values, problem)
        finally:
            wb.close()
    return Table(names, rows(), line, found=found, notes=notes, closer=wb.close)


_SIZING = threading.Lock()


@contextlib.contextmanager
def _sized_at_the_start() -> Iterator[None]:
    """Workbooks opened read-only meanwhile learn each sheet's size as openpyxl does — from its ``dimension``
    element, else none — without reading the whole sheet: openpyxl's own search (``parse_dimensions``) waits for
    the end of the sheet data when a sheet has no ``dimension`` (as openpyxl's write-only sheets have none), which
    reads every cell once more only to find no size. Here the search stops where the sheet data starts: the same
    size, or None, as the ``dimension`` element comes before the sheet data."""
    try:
        from openpyxl.worksheet._read_only import ReadOnlyWorksheet
        from openpyxl.worksheet._reader import DATA_TAG, DIMENSION_TAG
        from openpyxl.worksheet.dimensions import SheetDimension
        from openpyxl.xml.functions import iterparse
    except ImportError:  # another openpyxl: its own way
        yield
        return

    def get_size(sheet: Any) -> None:  # openpyxl's ReadOnlyWorksheet._get_size, the search stopped early
        src = sheet._get_source()
        try:
            for _, element in iterparse(src, events=("start",)):
                if element.tag == DIMENSION_TAG:
                    dimensions = SheetDimension.from_tree(element).boundaries
                    if dimensions is not None:
                        sheet._min_column, sheet._min_row, sheet._max_column, sheet._max_row = dimensions
                    return
                if element.tag == DATA_TAG:
                    return
        finally:
            src.close()

    with _SIZING:
        own = ReadOnlyWorksheet.__dict__.get("_get_size")
        if own is None:
            yield
            return
        ReadOnlyWorksheet._get_size = get_size
        try:
            yield
        finally:
            ReadOnlyWorksheet._get_size = own


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _CELL, _VALUE, _INLINE, _TEXT = (f"{_MAIN}{tag}" for tag in ("row", "c", "v", "is", "t"))
_REF = re.compile(r"([A-Z]{1,3})[0-9]+\Z")  # a plain cell reference (B12); others go through openpyxl's function


def _sheet_values(wb: Any, sheet: Any) -> Iterator[Sequence[Any]] | None:
    """The sheet's rows as openpyxl's read-only ``iter_rows(values_only=True)`` gives them — the same values, the
    same row lengths, empty rows for rows missing — read many times faster: rows in the form spreadsheet programs
    write them (:data:`_PLAIN_ROW_START`, :data:`_PLAIN_CELL`: plain cells, text without line ends and with no
    entities but XML's own) are read from the XML text, whole rows at C speed; any other row — and every row of a sheet that is not UTF-8
    in the default namespace — is parsed with openpyxl's XML parser and read here without openpyxl's objects per
    cell (its own reading is kept for what is not plain: rich text, odd cell references). None when this openpyxl
    does not have what this needs (the caller reads with openpyxl's own ``iter_rows``)."""
    from xml.etree.ElementTree import iterparse

    try:
        from openpyxl.cell.text import Text
        from openpyxl.utils.cell import column_index_from_string, coordinate_to_tuple, get_column_letter
        from openpyxl.utils.datetime import from_excel, from_ISO8601

        source = sheet._get_source()
        strings = sheet._shared_strings
        dates, durations, epoch = wb._date_formats, wb._timedelta_formats, wb.epoch
        max_col, max_row = sheet.max_column, sheet.max_row
    except (ImportError, AttributeError):
        return None
    columns: dict[str, int] = {}  # a cell reference's letters → its column
    in_order = tuple(get_column_letter(i) for i in range(1, _IN_ORDER + 1))  # A, B, C …: columns 1, 2, 3 …
    names: dict[int, str] = {}    # and back

    def column_of(ref: str, after: int) -> int:
        letters = names.get(after + 1)  # the next column's, as cells nearly always come
        if letters is not None and ref.startswith(letters):
            digits = ref[len(letters):]
            if digits.isdigit() and digits.isascii():
                return after + 1
        match = _REF.match(ref)
        if match is None:
            return int(coordinate_to_tuple(ref)[1])
        letters = match.group(1)
        column = columns.get(letters)
        if column is None:
            column = columns[letters] = column_index_from_string(letters)
            names.setdefault(column, letters)
        return column

    def cell_value(cell: Any) -> Any:  # openpyxl's WorkSheetParser.parse_cell, values only
        kind = cell.get("t", "n")
        style = cell.get("s")
        if kind == "inlineStr":
            if len(cell) == 1:  # <is><t>text</t></is>, as nearly every program writes it
                inline = cell[0]
                if inline.tag == _INLINE and len(inline) == 1:
                    text = inline[0]
                    if text.tag == _TEXT and not len(text):
                        return text.text or ""
            inline = cell.find(_INLINE)
            return Text.from_tree(inline).content if inline is not None else None
        return plain_value(cell.get("r"), kind, style, cell.findtext(_VALUE, None) or None)

    def row_of(element: Any, number: int) -> tuple[int, list[tuple[int, Any]]]:
        at = element.get("r")
        if at is None:
            number += 1
        else:
            try:
                number = int(at)
            except ValueError:
                whole = float(at)
                if not whole.is_integer():
                    raise ValueError(f"{at} is not a valid row number") from None
                number = int(whole)
        column = 0
        cells = []
        for cell in element:
            ref = cell.get("r")
            column = column_of(ref, column) if ref else column + 1
            cells.append((column, cell_value(cell)))
        element.clear()
        return number, cells

    def plain_value(ref: str | None, kind: str, style: str | None, value: str | None) -> Any:
        """The value of a cell that is not inline text, from its reference, type, style and the text of its <v>."""
        if not value:
            return None
        if kind == "n":
            number: Any = float(value) if "." in value or "E" in value or "e" in value else int(value)
            style_id = int(style) if style else 0
            if style_id in dates:
                try:
                    return from_excel(number, epoch, timedelta=style_id in durations)
                except (OverflowError, ValueError):
                    warnings.warn(f"Cell {ref} is marked as a date but the serial value {number} is outside the "
                                  "limits for dates. The cell will be treated as an error.", stacklevel=2)
                    return "#VALUE!"
            return number
        if kind == "s":
            return strings[int(value)]
        if kind == "b":
            return bool(int(value))
        if kind == "d":
            return from_ISO8601(value)
        return value

    shape: tuple[re.Pattern[str], Callable[[tuple[str, ...]], _Values]] | None = None  # the last row's
    shapes: dict[tuple[tuple[str, str, str, str], ...], Any] = {}

    def learn(found: list[tuple[str, ...]]) -> None:
        """The shape of a row of cells in columns A, B, C … in the forms _QUICK_CELL finds, all with the row's
        number: one expression that matches a row of the same shape whole (each cell's value or text in a group),
        and the function that makes the values of its groups as :func:`plain_row` makes them."""
        nonlocal shape
        key = tuple((style, kind, "t" if inline else "/" if whole.endswith("/>") else "v", letter)
                    for whole, letter, _, style, kind, _, inline, _ in found)
        if key not in shapes:
            if len(shapes) >= _SHAPES:
                return
            parts = []
            nothing, shared, plain = [], [], []
            for i, (style, kind, form, letter) in enumerate(key):
                attributes = (f' s="{style}"' if style else "") + (f' t="{kind}"' if kind else "")
                row = "(?P<row>[0-9]+)" if i == 0 else "(?P=row)"  # (every cell with the row's number)
                parts.append(re.escape(f'<c r="{letter}') + row + re.escape(f'"{attributes}')
                             + {"t": "><is><t>([^<]*)</t></is></c>", "/": "()/>", "v": "><v>([^<]*)</v></c>"}[form])
                if form == "t" and kind == "inlineStr":
                    continue  # the text itself
                if form != "v" or kind == "inlineStr":
                    nothing.append(i)
                elif kind == "s":
                    shared.append(i)
                else:
                    plain.append((i, letter, kind or "n", style or None))

            def values(groups: tuple[str, ...]) -> _Values:
                row = groups[0]
                cells = _Values(groups[1:])
                for i in nothing:
                    cells[i] = None
                for i in shared:
                    cells[i] = strings[int(cells[i])] if cells[i] else None
                for i, letter, kind, style in plain:
                    cells[i] = plain_value(f"{letter}{row}", kind, style, cells[i] or None)
                return cells
            shapes[key] = re.compile("".join(parts)), values
        shape = shapes[key]

    def plain_row(number: int, at: str | None, body: str) -> tuple[int, Any] | None:
        """A row in its plain form (every cell as _PLAIN_CELL reads it), or None to parse it as XML: its number,
        and its cells as (column, value) pairs — or, when they are columns A, B, C … in order (as nearly every
        program writes them), as a :class:`_Values` list of their values."""
        number = int(at) if at is not None else number + 1
        if not body:
            return number, []
        if "\r" in body:
            return None  # line ends are the XML parser's business
        entities = "&" in body
        if entities:
            if _ENTITY_OTHER.search(body) is not None:
                return None  # an entity the XML parser alone knows what to do with (it refuses most)
            try:
                decoded = _unescaped(body)
            except ValueError:  # a character XML does not allow: the parser says so
                return None
            # entities can only be in text, values and attributes, which the XML parser reads with them
            # replaced: the row read after replacing them is the same, unless one was a "<", which would change
            # the row's form (then they are replaced cell by cell, below)
            if decoded.count("<") == body.count("<"):
                body, entities = decoded, False
        if not entities and shape is not None:  # a row of the same shape as the last one read whole
            matched = shape[0].fullmatch(body)
            if matched is not None:
                return number, shape[1](matched.groups())
        # the cells found, in order and without overlap, cover the row when their lengths add up to its own
        # (else — spaces between cells, or cells in other forms — the row's form is checked whole)
        found = _QUICK_CELL.findall(body)  # the commonest forms, found faster
        quick = sum(map(len, map(_first, found))) == len(body)
        if not quick:
            found = _PLAIN_CELL.findall(body)
            if sum(map(len, map(_first, found))) != len(body) and not _PLAIN_CELLS.fullmatch(body):
                return None  # cells in other forms
        if not found:
            return number, []
        _, letters, digits, styles, kinds, values, inlines, texts = zip(*found, strict=True)
        n = len(found)
        if not entities and letters == in_order[:n]:
            if quick and digits.count(digits[0]) == n:
                learn(found)
            if kinds.count("inlineStr") == n and inlines.count("<is>") == n:  # only text, as openpyxl writes it
                return number, _Values(texts)
            return number, _Values([
                (texts[i] if inlines[i] else None) if kind == "inlineStr"
                else strings[int(values[i])] if kind == "s" and values[i]
                else plain_value(f"{letters[i]}{digits[i]}", kind or "n", styles[i], values[i] or None)
                for i, kind in enumerate(kinds)])
        cells: list[tuple[int, Any]] = []
        append = cells.append
        for _, letter, digit, style, kind, value, inline, text in found:
            column = columns.get(letter)
            if column is None:
                column = columns[letter] = column_index_from_string(letter)
                names.setdefault(column, letter)
            if entities:
                try:
                    text, value = _unescaped(text), _unescaped(value)
                except ValueError:  # a character XML does not allow: the parser says so
                    return None
            if kind == "inlineStr":
                append((column, text if inline else None))
            elif kind == "s" and value:
                append((column, strings[int(value)]))
            else:
                append((column, plain_value(f"{letter}{digit}", kind or "n", style, value or None)))
        return number, cells

    def parsed() -> Iterator[tuple[int, list[tuple[int, Any]]]]:
        with source:
            pieces = _plain_pieces(source)
            if pieces is None:  # not in the plain form: every row parsed as XML
                source.seek(0)
                number = 0
                for _, element in iterparse(source):
                    if element.tag == _ROW:
                        number, cells = row_of(element, number)
                        yield number, cells
                return
            number = 0
            for piece in pieces:
                if piece.__class__ is not str:  # the rest of the sheet, as XML elements
                    for element in piece:
                        number, cells = row_of(element, number)
                        yield number, cells
                    return
                parts = piece.split("</row>")  # (no text holds a "<": no cell holds "</row>")
                last = len(parts) - 1
                for i, part in enumerate(parts):
                    at = 0
                    while at < len(part):
                        match = _PLAIN_ROW_START.match(part, at)
                        closed = match is not None and match.group(2)
                        if match is None or not closed and i == last:  # (a row not ended: the parser says so)
                            break
                        body = "" if closed else part[match.end():]
                        plain = plain_row(number, match.group(1), body)
                        if plain is None:
                            number, cells = row_of(_xml_rows(f"{part[at:]}</row>")[0], number)
                        else:
                            number, cells = plain
                        yield number, cells
                        at = match.end() if closed else len(part)
                    if at < len(part) and not part[at:].isspace():
                        # a row in another form: the rest of the piece is parsed as XML
                        for element in _xml_rows("</row>".join([part[at:], *parts[i + 1:]])).iter(_ROW):
                            number, cells = row_of(element, number)
                            yield number, cells
                        break

    def rows() -> Iterator[Sequence[Any]]:  # openpyxl's ReadOnlyWorksheet._cells_by_row, values only
        empty: Sequence[Any] = (None,) * max_col if max_col is not None else []
        counter = at = 1
        for at, cells in parsed():
            if max_row is not None and at > max_row:
                break
            for _ in range(counter, at):
                counter += 1
                yield empty
            if counter <= at:
                counter += 1
                if not cells and not max_col:
                    yield ()
                    continue
                if cells.__class__ is _Values:  # columns 1, 2, 3 …: the same row, made at C speed
                    width = max_col or len(cells)
                    if len(cells) >= width:
                        yield tuple(cells[:width])
                    else:
                        yield (*cells, *(None,) * (width - len(cells)))
                    continue
                width = max_col or cells[-1][0]
                row: list[Any] = [None] * width
                for column, value in cells:
                    if 1 <= column <= width:
                        row[column - 1] = value
                yield tuple(row)
        if max_row is not None and max_row < at:
            for _ in range(counter, max_row + 1):
                yield empty
    return rows()


# The rows of a sheet in the form spreadsheet programs write them (the default namespace, attributes in double
# quotes, r before the others, text without entities or line ends); a row in any other form is parsed as XML.
_PLAIN_ROW_START = re.compile(r'\s*<row(?: r="(\d+)")?(?:\s+(?!r=)[\w:]+="[^"<]*")*\s*(/?)>')
_CELL_FORM = (r'<c r="([A-Z]{1,3})([0-9]+)"(?: s="(\d+)")?(?: t="(\w+)")?\s*'
              r'(?:/>|>(?:<v>([^<]*)</v>|<v/>|(<is>)<t(?: xml:space="preserve")?(?:>([^<]*)</t>|/>)</is>)?</c>)')
_PLAIN_CELL = re.compile(f"({_CELL_FORM})")  # (the whole cell first)
# the same groups for the forms nearly every cell has (a value, inline text, nothing), which a simpler expression
# finds about a third faster
_QUICK_CELL = re.compile(r'(<c r="([A-Z]{1,3})([0-9]+)"(?: s="(\d+)")?(?: t="(\w+)")?'
                         r'(?:>(?:<v>([^<]*)</v>|(<is>)<t>([^<]*)</t></is>)</c>|/>))')
_PLAIN_CELLS = re.compile(r"(?:\s*" + _CELL_FORM.replace("(", "(?:").replace("(?:?:", "(?:") + r")*\s*")
_SHEET_START = re.compile(r'<worksheet\s+xmlns="http://schemas\.openxmlformats\.org/spreadsheetml/2006/main"'
                          r'(?:\s+xmlns:[\w.-]+="[^"]*"|\s+[\w:]+="[^"]*")*\s*>')
_NOT_PLAIN = ("<!--", "<![CDATA[", "<?", "<!DOCTYPE")
_PIECE = 1 << 20  # characters of the sheet's XML handled at a time
# The entities a plain row's text may hold (XML's five and character references, as openpyxl and Excel write
# them); anything else after an "&" — another name, ``&#X41;``, no ";" — is left to the XML parser, which refuses it.
_ENTITY = re.compile(r"&(?:#([0-9]{1,7})|#x([0-9a-fA-F]{1,6})|(amp|lt|gt|quot|apos));")
_ENTITY_OTHER = re.compile(r"&(?!(?:#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|amp|lt|gt|quot|apos);)")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _character(match: re.Match[str]) -> str:
    named = match.group(3)
    if named is not None:
        return _NAMED[named]
    code = int(match.group(1)) if match.group(1) is not None else int(match.group(2), 16)
    # XML's Char production: anything else is the parser's error (said where it is read as XML)
    if code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF:
        return chr(code)
    raise ValueError(code)


def _unescaped(text: str) -> str:
    """Plain XML text with its entities replaced, as the XML parser replaces them (each once: ``&amp;lt;`` is
    ``&lt;``, ``&#38;lt;`` too): in one pass with character references among them, else name by name at C speed,
    ``&amp;`` last."""
    if "&" not in text:
        return text
    if "&#" in text:
        return _ENTITY.sub(_character, text)
    return text.replace("&quot;", '"').replace("&apos;", "'").replace("&lt;", "<").replace("&gt;", ">").replace(
        "&amp;", "&")


class _Values(list):  # type: ignore[type-arg]
    """The values of a row's cells in columns 1, 2, 3 … (a row in the plain form, read whole)."""

    __slots__ = ()


_IN_ORDER = 1024  # columns whose cells in order are read as a list of values
_SHAPES = 32  # shapes of rows learnt from one sheet (see _sheet_values' learn): rows of other shapes read cell by cell


def _xml_rows(text: str) -> Any:
    """Whole rows of a sheet in the default namespace, parsed as XML (the sheet data element holding them)."""
    from xml.etree.ElementTree import fromstring

    return fromstring(f'<sheetData xmlns="{_MAIN[1:-1]}">{text}</sheetData>')


def _plain_pieces(source: Any) -> Iterator[Any] | None:
    """The sheet data of a worksheet's XML in pieces of whole rows (text), cut at row ends; from where a piece
    holds what rows in the plain form cannot (comments, CDATA …), the rest of the sheet's rows as XML elements
    (one last item, an iterator). None when the sheet is not UTF-8 with its elements in the default namespace."""
    import codecs
    from xml.etree.ElementTree import iterparse

    decoder = codecs.getincrementaldecoder("utf-8")()
    head = ""
    while "<sheetData" not in head:
        data = source.read(1 << 16)
        if not data:
            return None
        try:
            head += decoder.decode(data)
        except UnicodeDecodeError:  # (another encoding, declared): the XML parser reads it
            return None
        if len(head) > 1 << 22:
            return None
    start = head.index("<sheetData")
    prolog = head[:start]
    declaration = prolog.split("?>", 1)[0] if prolog.startswith("<?xml") else ""
    if (declaration and "encoding" in declaration and not re.search(r'encoding=["\']utf-8["\']', declaration, re.I)
            or any(mark in prolog.split("?>", 1)[-1] for mark in _NOT_PLAIN) or not _SHEET_START.search(prolog)):
        return None
    opened = re.compile(r"<sheetData\s*(/?)>").match(head, start)
    if opened is None:
        return None

    def pieces() -> Iterator[Any]:
        if opened.group(1):
            return
        buffer = head[opened.end():]
        done = more = False
        while True:
            while not done and (more or len(buffer) < _PIECE):
                more = False
                data = source.read(_PIECE)
                if not data:
                    done = True
                    buffer += decoder.decode(b"", final=True)
                    break
                buffer += decoder.decode(data)
            last = buffer.find("</sheetData>")
            cut = last if last >= 0 else (buffer.rfind("</row>") + len("</row>") if "</row>" in buffer else -1)
            if cut < 0:
                if done:
                    raise ValueError("the sheet data does not end")
                if len(buffer) > 64 * _PIECE:  # a row longer than this: the rest as XML, as it comes
                    yield rest_as_xml(buffer)
                    return
                more = True
                continue
            piece, buffer = buffer[:cut], buffer[cut:]
            if ("!" in piece or "?" in piece) and any(mark in piece for mark in _NOT_PLAIN):  # (one character: memchr)
                yield rest_as_xml(piece + buffer)
                return
            if piece:
                yield piece
            if last >= 0:
                return

    def rest_as_xml(text: str) -> Iterator[Any]:
        """The rows of ``text`` and of the rest of the sheet (``text`` starts where a row may start)."""
        parts = [decoder.getstate()[0], f'<worksheet xmlns="{_MAIN[1:-1]}"><sheetData>{text}'.encode()]

        class Joined:
            def read(self, size: int = -1) -> bytes:
                if parts:
                    return parts.pop()
                return bytes(source.read(size))

        for _, element in iterparse(Joined()):
            if element.tag == _ROW:
                yield element
    return pieces()


# --------------------------------------------------------------------------------------------------
# JSON Lines and YAML lists: rows with their own keys


def _keyed_table(rows: Iterator[dict[str, Any]], notes: list[str]) -> Table:
    """The first readable row's keys stand as the header; the rows looked at are kept, in order."""
    seen: list[dict[str, Any]] = []
    header: list[str] = []
    for row in rows:
        seen.append(row)
        if ERROR_KEY not in row or row[ERROR_KEY].__class__ is not RowError:
            header = [str(k) for k in row]
            break
        if len(seen) >= _KEYED_PEEK:
            break

    def all_rows() -> Iterator[dict[str, Any]]:
        yield from seen
        yield from rows
    return Table(header, all_rows(), 0, keyed=True, notes=notes, closer=getattr(rows, "close", None))


def _jsonl_rows(p: Path, encoding: str) -> Iterator[dict[str, Any]]:
    with open(p, encoding=encoding) as fh:
        readline = fh.readline
        n = 0
        while True:
            line = readline(MAX_LINE_CHARS)
            if not line:
                return
            n += 1
            if len(line) >= MAX_LINE_CHARS and line[-1] != "\n":
                while line and line[-1] != "\n":
                    line = readline(_READ)
                yield {ERROR_KEY: RowError("row-too-long", f"第 {n} 行超过 {MAX_LINE_CHARS} 个字符,未读取")}
                continue
            if not line.strip():
                continue
            yield _json_row(n, line)


def _json_row(n: int, line: str) -> dict[str, Any]:
    try:
        value = JSON_DECODER.decode(line)
    except json.JSONDecodeError as exc:
        return {ERROR_KEY: RowError("row-unreadable", f"第 {n} 行不是有效的 JSON:{exc.msg}(第 {exc.colno} 列)")}
    except RecursionError:
        return {ERROR_KEY: RowError("row-too-deep", f"第 {n} 行的 JSON 嵌套超过 {MAX_JSON_DEPTH} 层")}
    except ValueError as exc:
        return {ERROR_KEY: RowError("row-unreadable", f"第 {n} 行不是有效的 JSON:{str(exc)[:200]}")}
    if not isinstance(value, dict):
        return {ERROR_KEY: RowError("row-unreadable", f"第 {n} 行应是一个 JSON 对象 {{…}}")}
    if line.count("[") + line.count("{") > MAX_JSON_DEPTH and json_too_deep(value):
        return {ERROR_KEY: RowError("row-too-deep", f"第 {n} 行的 JSON 嵌套超过 {MAX_JSON_DEPTH} 层")}
    if len(line) > MAX_CELL_CHARS:
        long = [k for k, v in value.items() if isinstance(v, str) and len(v) > MAX_CELL_CHARS]
        if long:
            for k in long:
                value[k] = ""
            value[ERROR_KEY] = RowError("cell-too-long", f"第 {n} 行 {'、'.join(map(repr, long))} 的值超过 "
                                                         f"{MAX_CELL_CHARS} 个字符,未读取")
    return value


def _yaml_rows(p: Path) -> Iterator[dict[str, Any]]:
    from ..source.loader import load_file

    size = p.stat().st_size
    if size > MAX_YAML_BYTES:
        raise UsageError(f"YAML 输入文件 {p} 有 {size} 字节,超过上限 {MAX_YAML_BYTES}(YAML 须整个读入);"
                         "请改用 CSV 或 JSON Lines", code="input-too-large")
    try:
        doc = load_file(p)
    except SkillcertError:
        raise
    except RecursionError:
        raise UsageError(f"{p}:YAML 嵌套过深,无法读取", code="input-too-deep") from None
    except (ValueError, UnicodeError) as exc:
        raise UsageError(f"{p}:无法按 YAML 读取({str(exc)[:200]})", code="yaml-invalid") from None
    if not isinstance(doc.data, list):
        raise UsageError(f"{p}:YAML 输入应是一个列表,每项是一行的事实(一个映射)")
    return (_yaml_item(i, item) for i, item in enumerate(doc.data, 1))


def _yaml_item(n: int, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        return {ERROR_KEY: RowError("row-unreadable", f"第 {n} 项应是一个映射")}
    if json_too_deep(item):
        return {ERROR_KEY: RowError("row-too-deep", f"第 {n} 项嵌套超过 {MAX_JSON_DEPTH} 层")}
    return item


def count_rows(path: Path) -> int | None:
    """Rows to expect, for the progress bar's time left (only computed when a terminal shows it)."""
    try:
        if path.suffix.lower() in (".csv", ".jsonl"):
            with open(path, "rb") as fh:
                n = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
            return max(n - (1 if path.suffix.lower() == ".csv" else 0), 0)
        if path.suffix.lower() == ".xlsx":
            import openpyxl

            with _sized_at_the_start():
                wb = openpyxl.load_workbook(path, read_only=True)
            n = max((wb.worksheets[0].max_row or 1) - 1, 0)
            wb.close()
            return n
    except Exception:  # only an estimate: the reading itself says what is wrong with the file
        return None
    return None
