"""Semi-trusted packs written on the fly for the tests of hostile input: one decision, the inputs, parameters,
derived values and extra YAML given, and one rule `r` whose `when` decides between `bad` and the default `ok`."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from skillcert.errors import SkillcertError
from skillcert.library import Library

AS_OF = dt.date(2025, 1, 6)


def write_pack(root: Path, *, inputs: Mapping[str, str] | None = None, parameters: Mapping[str, str] | None = None,
               derived: Mapping[str, str] | None = None, when: str = "false", extra: str = "",
               region: str = "hostile") -> Path:
    """``root/region/pack.yaml``; returns ``root``. Inputs and parameters are YAML flow mappings, derived values
    expressions (written as YAML double-quoted strings)."""
    lines = [
        "pack:",
        f"  id: {region}",
        "  title: 测试",
        "  jurisdiction: 测试市",
        "  issuer: 测试",
        "  version: 0.1.0",
        "  sources:",
        '    notice: {title: 通知, date: "2024"}',
        "  valid_from: 2024-09-01",
        "  valid_until: 2035-12-31",
        "decisions:",
        "  check:",
        "    title: 测试",
        "    source: 通知",
        "    inputs:",
    ]
    lines += [f"      {k}: {v}" for k, v in (inputs or {"flag": "{type: bool, label: 标志, default: false}"}).items()]
    if parameters:
        lines.append("    parameters:")
        lines += [f"      {k}: {v}" for k, v in parameters.items()]
    if derived:
        lines.append("    derived:")
        lines += [f"      {k}: {{label: {k}, expr: {json.dumps(v, ensure_ascii=False)}}}" for k, v in derived.items()]
    if extra:
        lines.append(extra.rstrip("\n"))
    lines += [
        "    outcomes:",
        "      ok: {label: 好, source: 通知}",
        "      bad: {label: 坏, source: 通知}",
        "    precedence: [bad, ok]",
        "    default_outcome: ok",
        "    rules:",
        f"      - {{id: r, kind: trigger, when: {json.dumps(when, ensure_ascii=False)}, outcome: bad, message: 坏, "
        "source: 通知}",
    ]
    folder = root / region
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pack.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def outcome_or_error(root: Path, facts: Mapping[str, Any] | None = None, *, reference: bool = False,
                     as_of: dt.date = AS_OF, region: str = "hostile") -> str:
    """``outcome: …`` or ``code: message`` — the same text from both evaluators is what agreement means."""
    try:
        result = Library(root, reference=reference).evaluate(f"{region}/check", dict(facts or {}), as_of=as_of)
    except SkillcertError as exc:
        return f"{exc.code}: {exc.message}"
    return f"outcome: {result.outcome}"


def both(root: Path, facts: Mapping[str, Any] | None = None, **kwargs: Any) -> str:
    """The bytecode's answer, after checking that the reference evaluator gives exactly the same."""
    fast = outcome_or_error(root, facts, **kwargs)
    assert outcome_or_error(root, facts, reference=True, **kwargs) == fast
    return fast
