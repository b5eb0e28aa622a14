"""``skillcert validate``: packs, their test files and their example facts, all problems in one run."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache as cache_result
from pathlib import Path

from ..compiler.model import Pack
from ..compiler.pipeline import PACK_FILE, check_versions_in
from ..compiler.versions import pack_files
from ..errors import Location, Problem, SkillcertError, UsageError
from ..library import Library
from ..source import cache
from ..source.loader import display_path, load_file

__all__ = ["validate_paths", "pack_dirs"]


def _is_pack_file(path: Path) -> bool:
    return path.name == PACK_FILE or path in pack_files(path.parent)


def pack_dirs(path: Path) -> list[Path]:
    """Pack folders under a path: the folder of a pack file (pack.yaml, pack-<version>.yaml), a pack folder, or a
    folder of packs."""
    if path.is_file():
        return [path.parent] if _is_pack_file(path) else []
    if (path / PACK_FILE).is_file():
        return [path]
    return sorted(p.parent for p in path.glob(f"*/{PACK_FILE}"))


def validate_paths(paths: list[str], warnings: list[Problem] | None = None) -> tuple[list[Problem], int]:
    """All problems under the given paths (sorted by file and line) and the number of files checked; what is only
    worth a warning (a gap between two versions of a pack) is added to ``warnings`` when given.

    A pack that cannot be built does not hide its test files' and examples' own problems: they are still read
    (YAML) and the test files checked against their schema; only what needs the pack (decisions, facts) is not.
    """
    from .mutate import MUTANTS_FILE, explanation_problems
    from .tester import check_case_file, find_test_files, load_cases, policies_root

    problems: list[Problem] = []
    checked = 0
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise UsageError(f"路径不存在:{raw}")
        if path.is_file() and not _is_pack_file(path):
            # a single test file: check it against the packs it belongs to
            root = policies_root(path)
            if root is None:
                raise UsageError(f"{raw} 既不是 pack.yaml,也不在某个政策包的 tests/ 目录中")
            problems.extend(check_case_file(path, Library(root)))
            checked += 1
            continue
        dirs = pack_dirs(path)
        if not dirs:
            raise UsageError(f"{raw} 下没有政策包(<地区>/pack.yaml)")
        for folder in dirs:
            library = Library(folder.parent)
            packs, found, warned = check_versions_in(folder, env=library.env)  # every version of the pack
            problems.extend(found)
            if warnings is not None:
                warnings.extend(warned)
            checked += len(pack_files(folder))
            if not packs or found:
                for test_file in find_test_files(folder):
                    problems.extend(_file_problems(test_file, lambda f: load_cases(f)[1]))
                    checked += 1
                for example in _examples(folder):
                    problems.extend(_file_problems(example, lambda f: (load_file(f, display_path(f)), [])[1]))
                    checked += 1
                continue
            library.add(*packs)
            for pack in packs:
                problems.extend(_template_problems(pack, folder))  # the documents' Word templates
            for test_file in find_test_files(folder):
                problems.extend(check_case_file(test_file, library))
                checked += 1
            if (folder / MUTANTS_FILE).is_file():  # explained equivalent mutants (skillcert test --mutate)
                problems.extend(explanation_problems(folder, packs, library.env.functions))
                checked += 1
            for example in _examples(folder):  # examples are facts for the version in force today
                problems.extend(_check_example(example, packs[0].id, library))
                checked += 1
    return sorted(problems, key=Problem.sort_key), checked


def _template_problems(pack: Pack, folder: Path) -> list[Problem]:
    """The pack's Word templates checked by :mod:`skillcert.documents.checks`, unless these very templates passed
    before for this very pack text, with this very engine code and these installed libraries.

    Checking them imports python-docx, docxtpl and jinja2 and opens every template: about 0.2 s, which took
    ``validate`` past its half second. A pass leaves an empty marker named by the digest of all that the check reads
    (:func:`_templates_digest`); a problem is never remembered, so it is reported at every run.
    """
    templates = sorted({Path(doc.path) for d in pack.decisions.values() for doc in d.documents.values()
                        if Path(doc.path).is_file()})
    if not templates:
        return []
    folder_of_markers = cache.cache_dir("templates-ok")
    marker = None
    if folder_of_markers is not None:
        try:
            marker = folder_of_markers / _templates_digest(folder / PACK_FILE, templates, pack_files(folder)[1:])
        except OSError:  # a file that vanished or cannot be read: check, and let the check say so
            marker = None
        if marker is not None and cache.has_marker(marker):
            return []
    from ..documents.checks import check_templates  # deferred: python-docx, docxtpl, jinja2 (see above)

    problems = check_templates(pack)
    if marker is not None and not problems:
        cache.set_marker(marker)
    return problems


def _templates_digest(pack_file: Path, templates: list[Path], versions: list[Path] | None = None) -> str:
    """The digest of everything the template checks depend on: the pack's text (and its other ``versions``' files)
    and its templates' bytes, and what :func:`_installation_digest` covers."""
    import hashlib

    h = hashlib.sha256(f"templates-ok 1\0{_installation_digest()}\0".encode())
    for path in [pack_file, *(versions or []), *templates]:
        h.update(f"{path}\0{path.stat().st_size}\0".encode("utf-8", "surrogatepass"))
        h.update(path.read_bytes())
    return h.hexdigest()


@cache_result
def _installation_digest() -> str:
    """Every module of the engine (the compiled decision and the checks themselves) and the folders on ``sys.path``
    as they are now (a library installed, upgraded or removed there changes its folder's time)."""
    import hashlib
    import os
    import sys

    h = hashlib.sha256()
    engine = Path(__file__).resolve().parent.parent
    for path in sorted(engine.rglob("*.py")):
        h.update(f"{path.relative_to(engine)}\0{path.stat().st_size}\0".encode("utf-8", "surrogatepass"))
        h.update(path.read_bytes())
    for entry in sys.path:
        try:
            h.update(f"{entry}\0{os.stat(entry or '.').st_mtime_ns}\0".encode("utf-8", "surrogatepass"))
        except OSError:
            continue
    return h.hexdigest()


def _examples(folder: Path) -> list[Path]:
    return (sorted(folder.glob("examples/*.yaml")) + sorted(folder.glob("examples/*.json"))
            + sorted(folder.glob("examples/documents/*.yaml")))  # facts with document inputs


def _file_problems(path: Path, check: Callable[[Path], list[Problem]]) -> list[Problem]:
    """The problems a file has on its own (reading it, its schema), when its pack could not be built."""
    try:
        return check(path)
    except SkillcertError as exc:
        return exc.problems or [Problem(exc.code, exc.message, exc.location or Location(display_path(path)))]


def _check_example(path: Path, region: str, library: Library) -> list[Problem]:
    """Example facts are named <decision>[-anything].yaml; they must be valid facts of that decision."""
    from ..documents.inputs import split_facts
    from ..runtime.facts import validate_facts

    pack = library.pack(region)
    stem = path.stem
    matches = [d for d in pack.decisions if stem == d or stem.startswith(d + "-")]
    if not matches:
        return [Problem("example-name", f"示例文件名应以决定名开头({'、'.join(pack.decisions)})",
                        Location(display_path(path), 1, 1))]
    try:
        doc = load_file(path, display_path(path))
        decision = pack.decisions[max(matches, key=len)]
        validate_facts(decision, split_facts(decision, doc.data)[0], doc.source)  # document inputs aside
    except SkillcertError as exc:
        return exc.problems or [Problem(exc.code, exc.message, exc.location or Location(display_path(path)))]
    return []
