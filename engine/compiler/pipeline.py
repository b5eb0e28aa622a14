"""The compiler: a pack folder → a checked :class:`~engine.model.Pack`, as an ordered list of named stages.

Stages (each a function of a :class:`Compilation`, collecting problems instead of stopping at the first):

1. ``load``         read ``pack.yaml`` safely with line marks
2. ``schema``       JSON Schema (``schemas/policy-pack.schema.json``); later stages need a valid shape
3. ``model``        metadata, inputs and their types, parameters, outcomes
4. ``expressions``  every expression parsed once, names resolved (with did-you-mean), types inferred
5. ``consistency``  scorecard sums, band gaps/overlaps, outcomes declared and ranked, unique ids, sources,
                    message placeholders, report names
6. ``dependencies`` cycles between derived values, deadlines, scorecards and the outcome

Problems carry ``file:line:col`` and a stable code; :class:`~engine.errors.PackError` holds them all.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import Location, PackError, Problem, Problems, SkillcertError, did_you_mean
from ..lang.checker import check_template_names, compile_expr
from ..lang.environment import Environment, builtin_environment
from ..lang.expr import CompiledExpr, ExprProblem, FunctionSpec
from ..lang.types import ANY, BOOL, DATE, DECIMAL, NULL, TEXT, VType, type_of_value
from ..source.loader import Document, PathT, load_file
from ..source.schema import PACK_SCHEMA, check_document
from .model import (
    Band,
    Checklist,
    ChecklistItem,
    Condition,
    Deadline,
    Decision,
    Derived,
    InputDef,
    Outcome,
    Pack,
    Parameter,
    Rule,
    Scorecard,
    ScoreLine,
    ScoreNode,
    SourceDoc,
    Table,
    TableColumn,
)

__all__ = ["compile_pack", "check_pack", "STAGES", "Compilation", "PACK_FILE", "RESERVED_NAMES",
           "RESULT_KEYS"]

PACK_FILE = "pack.yaml"
RESERVED_NAMES = frozenset({"as_of", "outcome", "true", "false", "null", "True", "False", "None"})
# Keys of the decision result: a reported value may not take one of these names.
RESULT_KEYS = frozenset({"decision", "title", "pack_version", "pack_digest", "as_of", "outcome", "outcome_label",
                         "score", "scores", "deadlines", "reasons", "warnings", "scorecard", "checklists", "tables", "checks",
                         "explain", "period", "inputs"})


@dataclass
class Compilation:
    """Everything the stages share: the document, problems so far and the pack being built."""

    directory: Path
    display: str
    env: Environment
    problems: Problems = field(default_factory=Problems)
    doc: Document | None = None
    pack: Pack | None = None
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    stopped: bool = False
    use_cache: bool = False
    # Schema problems were found: later stages still run, to report everything in one go, but a part whose
    # shape is broken is skipped quietly (its schema problem already says what is wrong), and no pack is built.
    shape_broken: bool = False

    @contextmanager
    def part(self) -> Iterator[None]:
        """Run one decision's part of a stage; on a broken shape, skip it instead of crashing."""
        if not self.shape_broken:
            yield
            return
        with suppress(KeyError, TypeError, AttributeError, ValueError, IndexError, ArithmeticError):
            yield

    def loc(self, path: PathT, *, key: bool = False) -> Location:
        assert self.doc is not None
        return self.doc.source.locate(path, key=key)

    def add(self, code: str, message: str, path: PathT, hint: str = "", *, key: bool = False) -> None:
        self.problems.add(code, message, self.loc(path, key=key), hint)


Stage = Callable[[Compilation], None]


# --------------------------------------------------------------------------------------------------
# 1. load


def stage_load(c: Compilation) -> None:
    path = c.directory / PACK_FILE
    try:
        c.doc = load_file(path, c.display)
    except SkillcertError as exc:
        c.problems.add(exc.code, exc.message, exc.location)
        c.stopped = True
        return
    if not isinstance(c.doc.data, dict):
        c.problems.add("schema", "政策包文件应是一个映射(键: 值)", Location(c.display, 1, 1))
        c.stopped = True


# --------------------------------------------------------------------------------------------------
# 2. schema


def stage_schema(c: Compilation) -> None:
    assert c.doc is not None
    found = check_document(c.doc, PACK_SCHEMA, use_cache=c.use_cache)
    c.problems.extend(found)
    c.shape_broken = bool(found)


# --------------------------------------------------------------------------------------------------
# 3. model


def vtype_of(spec: dict[str, Any]) -> VType:
    """The value type an input or field declaration describes."""
    kind = spec["type"]
    nullable = "default" in spec and spec["default"] is None
    if kind == "enum":
        values = spec["values"]
        return VType("enum", tuple(values), tuple(values.items()), nullable=nullable)
    if kind == "list":
        return VType("list", item=vtype_of(spec["items"]), nullable=nullable)
    if kind == "mapping":
        return VType("mapping", item=vtype_of(spec["items"]), nullable=nullable)
    if kind == "record":
        fields = tuple((name, vtype_of(f)) for name, f in spec["fields"].items())
        labels = tuple((name, f.get("label", name)) for name, f in spec["fields"].items())
        return VType("record", fields=fields, field_labels=labels, nullable=nullable)
    return VType(kind, nullable=nullable)


def stage_model(c: Compilation) -> None:
    assert c.doc is not None
    data = c.doc.data
    meta = data["pack"]
    folder = c.directory.name
    if meta["id"] != folder:
        c.add("pack-id", f"政策包 id '{meta['id']}' 应与目录名 '{folder}' 相同", ("pack", "id"))
    sources = {
        sid: SourceDoc(sid, s["title"], s.get("number", ""), str(s.get("date", "")), s.get("seed", ""))
        for sid, s in meta["sources"].items()
    }
    digest = hashlib.sha256(c.doc.text.encode("utf-8")).hexdigest()
    pack = Pack(
        id=meta["id"], title=meta["title"], jurisdiction=meta["jurisdiction"], issuer=meta["issuer"],
        version=meta["version"], sources=sources, valid_from=meta["valid_from"],
        valid_until=meta.get("valid_until"), notes=meta.get("notes", ""), decisions={},
        files=[c.display], digest="sha256:" + digest, directory=str(c.directory),
    )
    if pack.valid_until is not None and pack.valid_until < pack.valid_from:
        c.add("bad-period", f"有效期截止日 {pack.valid_until} 早于施行日期 {pack.valid_from}", ("pack", "valid_until"))
    c.pack = pack
    c.functions = dict(c.env.functions)
    _model_calendar(c, data.get("calendar", []))
    for name, d in data["decisions"].items():
        with c.part():
            pack.decisions[name] = _model_decision(c, name, d)


def _model_calendar(c: Compilation, years: list[dict[str, Any]]) -> None:
    from ..lang.calendar import year_data_from_mapping

    assert c.pack is not None
    extra = []
    for i, y in enumerate(years):
        where = c.loc(("calendar", i))
        try:
            extra.append(year_data_from_mapping(y, str(where)))
        except SkillcertError as exc:
            c.problems.add("calendar-data-invalid", exc.message, where)
    base = c.env.calendar
    c.pack.calendar = base.with_years(extra) if extra else base


def _model_decision(c: Compilation, name: str, d: dict[str, Any]) -> Decision:
    assert c.pack is not None
    base: PathT = ("decisions", name)
    inputs = {}
    for iname, spec in d["inputs"].items():
        inputs[iname] = InputDef(
            name=iname, label=spec["label"], type=vtype_of(spec), spec=spec, required="default" not in spec,
            default=spec.get("default"), source=spec.get("source", ""), description=spec.get("description", ""),
            location=c.loc(base + ("inputs", iname), key=True),
        )
    parameters = {
        pname: Parameter(pname, p["label"], p["value"], p.get("unit", ""), p["source"],
                         c.loc(base + ("parameters", pname), key=True))
        for pname, p in d.get("parameters", {}).items()
    }
    outcomes: dict[str, Outcome] = {}
    for code, o in d["outcomes"].items():
        outcomes[code] = Outcome(code, o["label"], o.get("description", ""), o.get("source", ""), -1,
                                 c.loc(base + ("outcomes", code), key=True))
    valid_from = d.get("valid_from", c.pack.valid_from)
    valid_until = d.get("valid_until", c.pack.valid_until)
    return Decision(
        pack_id=c.pack.id, name=name, title=d["title"], description=d.get("description", ""),
        source=d.get("source", ""), valid_from=valid_from, valid_until=valid_until, inputs=inputs,
        parameters=parameters, derived={}, scorecards={}, primary_score=d.get("score"), deadlines={},
        checklists={}, tables={}, outcomes=outcomes, default_outcome=d.get("default_outcome"), rules=[],
        report=list(d.get("report", [])), location=c.loc(base, key=True), pack=c.pack,
    )


# --------------------------------------------------------------------------------------------------
# 4. expressions


class _Scope:
    """Name → type for one decision while compiling; derived types are inferred on first use."""

    def __init__(self, c: Compilation, decision: Decision, raw: dict[str, Any], base: PathT) -> None:
        self.c = c
        self.decision = decision
        self.raw = raw
        self.base = base
        self.fixed: dict[str, VType] = {"as_of": DATE}
        self.fixed["outcome"] = VType("enum", tuple(decision.outcomes),
                                      tuple((k, o.label) for k, o in decision.outcomes.items()))
        for n, i in decision.inputs.items():
            self.fixed[n] = i.type
        for n, p in decision.parameters.items():
            self.fixed[n] = type_of_value(p.value)
        for n in raw.get("deadlines", {}):
            self.fixed[n] = DATE.with_nullable()
        for n in raw.get("scorecards", {}):
            self.fixed[n] = DECIMAL.with_nullable()
        for rule in raw.get("rules", []):
            if rule.get("collect"):
                self.fixed[rule["collect"]] = VType("list", item=ANY)  # refined once the rule is compiled
        self.derived_types: dict[str, VType] = {}
        self.in_progress: set[str] = set()
        self.locals: list[dict[str, VType]] = []

    def is_local(self, name: str) -> bool:
        """A name of an enclosing `each` element, `let` or table row (not in the evaluation's table of values)."""
        return any(name in frame for frame in self.locals)

    def names(self) -> list[str]:
        out = list(self.fixed) + list(self.raw.get("derived", {}))
        for frame in self.locals:
            out += list(frame)
        return out

    def __call__(self, name: str) -> VType | None:
        for frame in reversed(self.locals):
            if name in frame:
                return frame[name]
        if name in self.fixed:
            return self.fixed[name]
        derived = self.raw.get("derived", {})
        if name in derived:
            if name in self.derived_types:
                return self.derived_types[name]
            if name in self.in_progress:
                return ANY  # a cycle: reported by the dependencies stage
            self.in_progress.add(name)
            saved, self.locals = self.locals, []
            try:
                expr = self.expr(derived[name]["expr"], self.base + ("derived", name, "expr"))
            finally:
                self.locals = saved
                self.in_progress.discard(name)
            t = expr.type if expr else ANY
            codes = derived[name].get("values")
            if codes and t.kind in ("text", "enum", "any"):
                # a coded value: comparisons with a code it never takes ('scorcard') are caught like an enum's
                t = VType("enum", tuple(codes), tuple(codes.items()), nullable=t.nullable)
            self.derived_types[name] = t
            if expr is not None:
                self.decision.derived[name] = Derived(
                    name, derived[name]["label"], expr, derived[name].get("values", {}),
                    derived[name].get("source", ""), self.c.loc(self.base + ("derived", name), key=True))
            return t
        return None

    def expr(self, source: Any, path: PathT, want: VType | None = None, what: str = "") -> CompiledExpr | None:
        problems: list[ExprProblem] = []
        compiled = compile_expr(source, self, self.c.functions, problems)
        if compiled is not None:
            problems.extend(_literal_numbers(compiled))
        for p in problems:
            self.c.problems.add(p.code, p.message, self._expr_location(path, p.offset), p.hint)
        if compiled is not None and want is not None and not _fits(compiled.type, want):
            from ..lang.types import describe

            self.c.add("type-mismatch", f"{what or '表达式'}应为 {describe(want)},`{compiled.text}` 是 "
                       f"{describe(compiled.type)}", path)
        return compiled

    def _expr_location(self, path: PathT, offset: int) -> Location:
        loc = self.c.loc(path)
        if not loc.line or self.c.doc is None:
            return loc
        lines = self.c.doc.text.splitlines()
        if loc.line - 1 >= len(lines):
            return loc
        line = lines[loc.line - 1]
        start = loc.col - 1
        if start < len(line) and line[start] in "'\"":
            start += 1
        elif start < len(line) and line[start] in "|>":
            return loc
        return Location(loc.file, loc.line, start + offset + 1, loc.path)


ALLOWED_LITERALS = (0, 1)


def _literal_numbers(expr: CompiledExpr) -> list[ExprProblem]:
    """Numbers from the notice belong in ``parameters``, named once; only 0 and 1 may stand in expressions."""
    import ast

    out = []
    for node in ast.walk(expr.tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, Decimal)) \
                and not isinstance(node.value, bool) and node.value not in ALLOWED_LITERALS:
            out.append(ExprProblem("literal-number", f"数字 {node.value} 直接写在表达式中",
                                   "通知中的数字请在 parameters 中命名,并在此引用其名字", node.col_offset))
    return out


def _fits(t: VType, want: VType) -> bool:
    if t.kind == "any" or want.kind == "any":
        return True
    if want.kind == "bool":
        return t.kind == "bool"
    if want.kind in ("integer", "decimal", "number"):
        return t.is_numeric or t.kind == "null"
    if want.kind == "date":
        return t.kind in ("date", "null")
    if want.kind == "list":
        return t.kind == "list"
    return True


def stage_expressions(c: Compilation) -> None:
    assert c.doc is not None and c.pack is not None
    for name, decision in c.pack.decisions.items():
        raw = c.doc.data["decisions"][name]
        with c.part():
            _compile_decision_exprs(c, decision, raw, ("decisions", name))


def _compile_decision_exprs(c: Compilation, d: Decision, raw: dict[str, Any], base: PathT) -> None:
    scope = _Scope(c, d, raw, base)
    for name in raw.get("derived", {}):
        scope(name)
    # keep declaration order for derived values (the scope fills them in dependency order)
    d.derived = {n: d.derived[n] for n in raw.get("derived", {}) if n in d.derived}

    for name, spec in raw.get("deadlines", {}).items():
        p = base + ("deadlines", name)
        unit = next((u for u in ("days", "working_days", "months", "years") if u in spec), None)
        d.deadlines[name] = Deadline(
            name=name, label=spec["label"],
            date=scope.expr(spec["date"], p + ("date",), DATE, "期限") if "date" in spec else None,
            start=scope.expr(spec["from"], p + ("from",), DATE, "起算日") if "from" in spec else None,
            unit=unit,
            amount=scope.expr(spec[unit], p + (unit,), VType("integer"), "天数") if unit else None,
            when=scope.expr(spec["when"], p + ("when",), BOOL, "when") if "when" in spec else None,
            source=spec["source"], location=c.loc(p, key=True),
        )

    for name, spec in raw.get("scorecards", {}).items():
        p = base + ("scorecards", name)
        d.scorecards[name] = Scorecard(
            name=name, label=spec["label"], max=Decimal(spec["max"]),
            when=scope.expr(spec["when"], p + ("when",), BOOL, "when") if "when" in spec else None,
            source=spec["source"],
            # the scorecard's own source (e.g. 附件3) is too coarse to stand for an item's clause
            categories=[_score_node(scope, n, p + ("categories", i), False, "")
                        for i, n in enumerate(spec["categories"])],
            location=c.loc(p, key=True),
        )

    if not c.problems:
        from .scorecode import compile_scorecard

        for card in d.scorecards.values():
            card.fast = compile_scorecard(card, c.functions)

    for name, spec in raw.get("checklists", {}).items():
        p = base + ("checklists", name)
        items = [
            ChecklistItem(
                id=it["id"], label=it["label"],
                required_when=(scope.expr(it["required_when"], p + ("items", i, "required_when"), BOOL,
                                          "required_when") if "required_when" in it else None),
                source=it.get("source", spec["source"]), location=c.loc(p + ("items", i)),
            )
            for i, it in enumerate(spec["items"])
        ]
        d.checklists[name] = Checklist(
            name=name, label=spec["label"], source=spec["source"],
            provided=(scope.expr(spec["provided"], p + ("provided",), VType("list", item=ANY), "provided")
                      if "provided" in spec else None),
            outcome=spec.get("outcome"),
            when=scope.expr(spec["when"], p + ("when",), BOOL, "when") if "when" in spec else None,
            items=items, location=c.loc(p, key=True),
        )

    for name, spec in raw.get("tables", {}).items():
        d.tables[name] = _table(scope, name, spec, base + ("tables", name))

    for i, spec in enumerate(raw["rules"]):
        d.rules.append(_rule(scope, spec, base + ("rules", i)))

    for i, name in enumerate(d.report):
        if scope(name) is None:
            c.add("unknown-name", f"report 中的 '{name}' 未声明", base + ("report", i), did_you_mean(name, scope.names()))

    _check_templates(c, d, raw, base, scope)


def _score_node(scope: _Scope, spec: dict[str, Any], path: PathT, bonus: bool, inherited_source: str) -> ScoreNode:
    bonus = bonus or bool(spec.get("bonus", False))
    source = spec.get("source", "")
    children = [_score_node(scope, s, path + ("items", i), bonus, source or inherited_source)
                for i, s in enumerate(spec.get("items", []))]
    lines_key = "award" if "award" in spec else "deduct"
    lines = []
    for j, line in enumerate(spec.get(lines_key, [])):
        lp = path + (lines_key, j)
        lines.append(ScoreLine(
            label=line["label"],
            per=Decimal(line["per"]) if "per" in line else None,
            count=scope.expr(line["count"], lp + ("count",), VType("integer"), "count") if "count" in line else None,
            points=Decimal(line["points"]) if "points" in line else None,
            when=scope.expr(line["when"], lp + ("when",), BOOL, "when") if "when" in line else None,
            source=line.get("source", ""), location=scope.c.loc(lp),
        ))
    node = ScoreNode(id=spec["id"], label=spec["label"], max=Decimal(spec["max"]), bonus=bonus,
                     source=source or inherited_source, children=children, lines=lines, location=scope.c.loc(path))
    if lines_key == "award" and not bonus:
        scope.c.add("award-outside-bonus", f"评分项 '{spec['id']}' 有 award(加分),但不在加分项(bonus)中",
                    path + ("award",), key=True)
    if lines_key == "deduct" and bonus and lines:
        scope.c.add("deduct-in-bonus", f"加分项 '{spec['id']}' 应写 award 而不是 deduct", path + ("deduct",),
                    key=True)
    return node


def _condition(scope: _Scope, spec: dict[str, Any], path: PathT, source: str) -> Condition:
    own_source = spec.get("source", source)
    if "message" in spec:
        _check_template(scope, spec["message"], path + ("message",))
    for op in ("all", "any"):
        if op in spec:
            children = [_condition(scope, s, path + (op, i), own_source) for i, s in enumerate(spec[op])]
            return Condition(op, spec.get("id", ""), None, children, spec.get("message", ""), own_source,
                             scope.c.loc(path))
    if "not" in spec:
        child = _condition(scope, spec["not"], path + ("not",), own_source)
        return Condition("not", spec.get("id", ""), None, [child], spec["message"], own_source, scope.c.loc(path))
    if "each" in spec:
        over = scope.expr(spec["each"], path + ("each",), VType("list", item=ANY), "each")
        item = over.type.item if over is not None and over.type.item is not None else ANY
        if scope(spec["as"]) is not None:
            scope.c.add("duplicate-name", f"元素名 '{spec['as']}' 与已声明的名字重复", path + ("as",))
        scope.locals.append({spec["as"]: item})
        try:
            _check_template(scope, spec["name"], path + ("name",))
            where = scope.expr(spec["where"], path + ("where",), BOOL, "where") if "where" in spec else None
            child = _condition(scope, spec["require"], path + ("require",), own_source)
        finally:
            scope.locals.pop()
        return Condition("each", spec.get("id", ""), None, [child], spec.get("message", ""), own_source,
                         scope.c.loc(path), over=over, as_name=spec["as"], element_name=spec["name"], where=where)
    check = scope.expr(spec["check"], path + ("check",), BOOL, "check")
    return Condition("check", spec.get("id", ""), check, [], spec["message"], own_source, scope.c.loc(path))


def _check_template(scope: _Scope, template: str, path: PathT) -> None:
    """Every ``{name}`` of a message must be a name in scope here (element names of enclosing `each` too)."""
    for ref in check_template_names(template):
        problems: list[ExprProblem] = []
        compile_expr(ref, scope, scope.c.functions, problems)
        for p in problems:
            scope.c.add("unknown-name", f"消息中的 {{{ref}}}:{p.message}", path, p.hint)


def _rule(scope: _Scope, spec: dict[str, Any], path: PathT) -> Rule:
    kind = spec["kind"]
    when = scope.expr(spec["when"], path + ("when",), BOOL, "when") if "when" in spec else None
    rule = Rule(id=spec["id"], kind=kind, source=spec["source"], description=spec.get("description", ""),
                when=when, outcome=spec.get("outcome"), message=spec.get("message", ""),
                location=scope.c.loc(path))
    if "outcome" in spec and spec["outcome"] not in scope.decision.outcomes and kind != "bands":
        _outcome_expression(scope, rule, spec["outcome"], path + ("outcome",))
    if kind == "conditions":
        rule.require = _condition(scope, spec["require"], path + ("require",), spec["source"])
    elif kind == "bands":
        rule.score = scope.expr(spec["score"], path + ("score",), VType("decimal"), "score")
        for i, b in enumerate(spec["bands"]):
            bp = path + ("bands", i)
            rule.bands.append(Band(
                min=_constant_number(scope, b.get("min"), bp + ("min",)),
                below=_constant_number(scope, b.get("below"), bp + ("below",)),
                outcome=b["outcome"], message=b.get("message", ""), location=scope.c.loc(bp)))
    elif kind == "each":
        over = scope.expr(spec["over"], path + ("over",), VType("list", item=ANY), "over")
        rule.over = over
        rule.as_name = spec["as"]
        rule.element_name = spec["name"]
        rule.collect = spec.get("collect", "")
        item = over.type.item if over is not None and over.type.item is not None else ANY
        if scope(spec["as"]) is not None:
            scope.c.add("duplicate-name", f"元素名 '{spec['as']}' 与已声明的名字重复", path + ("as",))
        frame: dict[str, VType] = {spec["as"]: item}
        scope.locals.append(frame)
        try:
            for name, source in spec.get("let", {}).items():
                lp = path + ("let", name)
                if scope(name) is not None:
                    scope.c.add("duplicate-name", f"'{name}' 与已声明的名字重复", lp, key=True)
                compiled = scope.expr(source, lp)
                if compiled is not None:
                    rule.let.append((name, compiled))
                frame[name] = compiled.type if compiled is not None else ANY
            rule.local_types = dict(frame)
            if "where" in spec:
                rule.where = scope.expr(spec["where"], path + ("where",), BOOL, "where")
            rule.require = _condition(scope, spec["require"], path + ("require",), spec["source"])
        finally:
            scope.locals.pop()
        if rule.collect:
            scope.fixed[rule.collect] = VType("list", item=item)
    return rule


def _table(scope: _Scope, name: str, spec: dict[str, Any], path: PathT) -> Table:
    rows = scope.expr(spec["rows"], path + ("rows",), VType("list", item=ANY), "rows")
    item = rows.type.item if rows is not None and rows.type.item is not None else ANY
    if scope(spec["as"]) is not None:
        scope.c.add("duplicate-name", f"行名 '{spec['as']}' 与已声明的名字重复", path + ("as",))
    row_frame: dict[str, VType] = {spec["as"]: item}
    total_frame: dict[str, VType] = {}
    columns: list[TableColumn] = []
    seen: set[str] = set()
    for i, col in enumerate(spec["columns"]):
        cp = path + ("columns", i)
        cid = col["id"]
        if cid in seen or scope(cid) is not None or cid == spec["as"]:
            scope.c.add("duplicate-name", f"列 id '{cid}' 重复,或与已声明的名字相同", cp + ("id",))
        seen.add(cid)
        scope.locals.append(row_frame)
        try:
            expr = scope.expr(col["expr"], cp + ("expr",))
        finally:
            scope.locals.pop()
        row_frame[cid] = expr.type if expr is not None else ANY
        total: CompiledExpr | str | None = None
        if col.get("total") == "sum":
            if expr is not None and not (expr.type.is_numeric or expr.type.kind == "any"):
                scope.c.add("type-mismatch", f"列 '{cid}' 不是数值,不能合计(sum)", cp + ("total",))
            total = "sum"
            total_frame[cid] = expr.type if expr is not None else ANY
        elif "total" in col:
            scope.locals.append(total_frame)
            try:
                total = scope.expr(col["total"], cp + ("total",))
            finally:
                scope.locals.pop()
            total_frame[cid] = total.type if isinstance(total, CompiledExpr) else ANY
        else:
            total_frame[cid] = NULL
        columns.append(TableColumn(cid, col["label"], expr, total, scope.c.loc(cp)))
    return Table(name, spec["label"], spec["source"], rows, spec["as"], columns, scope.c.loc(path, key=True))


_ID = re.compile(r"^[a-z][a-z0-9_]*$")


def _outcome_expression(scope: _Scope, rule: Rule, source: str, path: PathT) -> None:
    """An outcome that depends on the facts: an expression (or a derived value) whose text literals are codes.

    ``outcome: "'interview_and_credit' if rectified_in_time == false else 'rectify'"``. A bare id is an outcome
    code when one is declared by that name, else a declared name; otherwise it is an unknown outcome.
    """
    if _ID.match(source) and scope(source) is None:
        return  # reported by _check_outcomes as unknown-outcome, with a did-you-mean
    expr = scope.expr(source, path, TEXT, "outcome")
    if expr is None:
        return
    tree = expr.tree
    if isinstance(tree, ast.Name) and tree.id in scope.decision.derived:
        tree = scope.decision.derived[tree.id].expr.tree
    codes = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    if not codes:
        scope.c.add("unknown-outcome", f"outcome 表达式 `{source}` 中没有任何结论代码", path,
                    "写成 '代码A' if 条件 else '代码B'")
    rule.outcome, rule.outcome_expr, rule.outcome_codes = None, expr, codes


def _constant_number(scope: _Scope, value: Any, path: PathT) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        scope.c.add("band-bound", "分数段的界限应是数值或参数名", path)
        return None
    if isinstance(value, (int, Decimal)):
        if value not in ALLOWED_LITERALS:
            scope.c.add("literal-number", f"分数段界限 {value} 直接写成了数字", path,
                        "通知中的数字请在 parameters 中命名,并在此引用其名字")
        return Decimal(value)
    if isinstance(value, str) and value in scope.decision.parameters:
        v = scope.decision.parameters[value].value
        if isinstance(v, (int, Decimal)) and not isinstance(v, bool):
            return Decimal(v)
        scope.c.add("band-bound", f"参数 '{value}' 不是数值", path)
        return None
    scope.c.add("band-bound", f"分数段的界限应是数值或参数名,'{value}' 不是参数", path,
                did_you_mean(str(value), scope.decision.parameters))
    return None


def _check_templates(c: Compilation, d: Decision, raw: dict[str, Any], base: PathT, scope: _Scope) -> None:
    """Rule-level messages (condition messages are checked where they are compiled, in their scope)."""
    for i, spec in enumerate(raw["rules"]):
        rp = base + ("rules", i)
        rule = d.rules[i]
        local = (rule.local_types or {spec["as"]: ANY}) if spec["kind"] == "each" else {}
        scope.locals.append(local)
        try:
            if spec["kind"] == "each":
                _check_template(scope, spec["name"], rp + ("name",))
            if "message" in spec:
                _check_template(scope, spec["message"], rp + ("message",))
        finally:
            scope.locals.pop()
        for j, b in enumerate(spec.get("bands", [])):
            if "message" in b:
                _check_template(scope, b["message"], rp + ("bands", j, "message"))


# --------------------------------------------------------------------------------------------------
# 5. consistency


def stage_consistency(c: Compilation) -> None:
    assert c.doc is not None and c.pack is not None
    for name, d in c.pack.decisions.items():
        raw = c.doc.data["decisions"][name]
        base: PathT = ("decisions", name)
        for check in (_check_names, _check_outcomes, _check_scorecards, _check_bands, _check_ids):
            with c.part():
                check(c, d, raw, base)


def _check_names(c: Compilation, d: Decision, raw: dict[str, Any], base: PathT) -> None:
    seen: dict[str, str] = {}
    for section in ("inputs", "parameters", "derived", "deadlines", "scorecards"):
        for n in raw.get(section, {}):
            if n in RESERVED_NAMES:
                c.add("reserved-name", f"'{n}' 是保留名字,不能用作{section}的名字", base + (section, n), key=True)
            if n in c.functions:
                c.add("duplicate-name", f"'{n}' 与函数同名", base + (section, n), key=True)
            if n in seen:
                c.add("duplicate-name", f"'{n}' 已在 {seen[n]} 中声明", base + (section, n), key=True)
            else:
                seen[n] = section
    for i, rule in enumerate(raw["rules"]):
        n = rule.get("collect")
        if not n:
            continue
        where = base + ("rules", i, "collect")
        if n in RESERVED_NAMES or n in c.functions:
            c.add("reserved-name", f"'{n}' 是保留名字或函数名", where)
        elif n in seen:
            c.add("duplicate-name", f"'{n}' 已在 {seen[n]} 中声明", where)
        else:
            seen[n] = "rules.collect"
    for i, n in enumerate(d.report):
        if n in RESULT_KEYS:
            c.add("reserved-name", f"report 中的 '{n}' 与结果的固定字段同名", base + ("report", i))
    if d.primary_score is not None and d.primary_score not in d.scorecards:
        c.add("unknown-name", f"score 指向的评分表 '{d.primary_score}' 未声明", base + ("score",),
              did_you_mean(d.primary_score, d.scorecards))
    if d.primary_score is None and len(d.scorecards) == 1:
        d.primary_score = next(iter(d.scorecards))
    declares_period = "valid_from" in raw or "valid_until" in raw
    if declares_period and d.valid_until is not None and d.valid_until < d.valid_from:
        c.add("bad-period", f"有效期截止日 {d.valid_until} 早于施行日期 {d.valid_from}", base + ("valid_until",))


def _check_outcomes(c: Compilation, d: Decision, raw: dict[str, Any], base: PathT) -> None:
    declared = d.outcomes

    def must_exist(code: str | None, path: PathT) -> None:
        if code is not None and code not in declared:
            c.add("unknown-outcome", f"结论 '{code}' 未在 outcomes 中声明", path, did_you_mean(code, declared))

    used: set[str] = set()
    for i, rule in enumerate(raw["rules"]):
        rp = base + ("rules", i)
        compiled = d.rules[i] if i < len(d.rules) else None
        if compiled is not None and compiled.outcome_codes:
            for code in compiled.outcome_codes:
                must_exist(code, rp + ("outcome",))
                used.add(code)
        elif "outcome" in rule and (compiled is None or compiled.outcome_expr is None):
            must_exist(rule["outcome"], rp + ("outcome",))
            used.add(rule["outcome"])
        for j, b in enumerate(rule.get("bands", [])):
            must_exist(b["outcome"], rp + ("bands", j, "outcome"))
            used.add(b["outcome"])
    for name, cl in raw.get("checklists", {}).items():
        if "outcome" in cl:
            must_exist(cl["outcome"], base + ("checklists", name, "outcome"))
            used.add(cl["outcome"])
    if d.default_outcome:
        must_exist(d.default_outcome, base + ("default_outcome",))
        used.add(d.default_outcome)

    rank = 0
    ranked: set[str] = set()
    for i, entry in enumerate(raw["precedence"]):
        group = entry if isinstance(entry, list) else [entry]
        for j, code in enumerate(group):
            path = base + ("precedence", i) + ((j,) if isinstance(entry, list) else ())
            if code not in declared:
                must_exist(code, path)
                continue
            if code in ranked:
                c.add("precedence-duplicate", f"结论 '{code}' 在 precedence 中出现了不止一次", path)
                continue
            ranked.add(code)
            declared[code].rank = rank
        rank += 1
    for code, o in declared.items():
        if code not in ranked:
            c.problems.add("precedence-missing", f"结论 '{code}' 没有列入 precedence", o.location)
        if code not in used:
            c.problems.add("unused-outcome", f"结论 '{code}' 已声明,但没有规则会得出它", o.location,
                           "删除它,或补上得出它的规则")


def _check_scorecards(c: Compilation, d: Decision, raw: dict[str, Any], base: PathT) -> None:
    for name, card in d.scorecards.items():
        p = base + ("scorecards", name)
        total = sum((n.max for n in card.categories), Decimal(0))
        if total != card.max:
            c.add("score-sum", f"评分表 '{name}' 声明满分 {_fmt(card.max)},各类别满分之和为 {_fmt(total)}", p + ("max",))
        for i, node in enumerate(card.categories):
            _check_score_node(c, node, p + ("categories", i))


def _check_score_node(c: Compilation, node: ScoreNode, path: PathT) -> None:
    if node.children:
        total = sum((ch.max for ch in node.children), Decimal(0))
        if total != node.max:
            c.add("score-sum", f"'{node.id}'({node.label})满分 {_fmt(node.max)},其下各项满分之和为 {_fmt(total)}",
                  path + ("max",))
        for i, ch in enumerate(node.children):
            _check_score_node(c, ch, path + ("items", i))
    elif not node.source:
        c.add("missing-source", f"评分项 '{node.id}'({node.label})没有出处(source)", path, "写明对应的附件和条目")
    for j, line in enumerate(node.lines):
        amount = line.points if line.points is not None else line.per
        if amount is not None and amount > node.max:
            key = "award" if node.bonus else "deduct"
            c.add("score-line", f"'{line.label}' 的分值 {_fmt(amount)} 超过本项满分 {_fmt(node.max)}",
                  path + (key, j))


def _check_bands(c: Compilation, d: Decision, raw: dict[str, Any], base: PathT) -> None:
    for i, rule in enumerate(d.rules):
        if rule.kind != "bands":
            continue
        rp = base + ("rules", i, "bands")
        bands = sorted(enumerate(rule.bands), key=lambda jb: (jb[1].min is not None, jb[1].min or 0))
        prev_below: Decimal | None = None
        first = True
        for j, band in bands:
            if band.min is not None and band.below is not None and band.min >= band.below:
                c.add("band-empty", f"分数段 [{_fmt(band.min)}, {_fmt(band.below)}) 为空", rp + (j,))
                continue
            if first:
                lowest = Decimal(0) if _scorecard_of(d, rule) is not None else None
                if band.min is not None and (lowest is None or band.min > lowest):
                    c.add("band-gap", f"低于 {_fmt(band.min)} 的分数没有对应的分数段", rp + (j,),
                          "最低一段不写 min,表示以下全部")
                first = False
            elif prev_below is None:
                c.add("band-overlap", "上一段没有上限(below),与本段重叠", rp + (j,))
            elif band.min is None or band.min < prev_below:
                c.add("band-overlap", f"本段与上一段(低于 {_fmt(prev_below)})重叠", rp + (j,))
            elif band.min > prev_below:
                c.add("band-gap", f"[{_fmt(prev_below)}, {_fmt(band.min)}) 之间的分数没有对应的分数段", rp + (j,))
            prev_below = band.below
        if bands and prev_below is not None:
            card = _scorecard_of(d, rule)
            if card is None or prev_below <= card.max:
                c.add("band-gap", f"{_fmt(prev_below)} 及以上的分数没有对应的分数段", rp,
                      "最高一段不写 below,表示以上全部")


def _scorecard_of(d: Decision, rule: Rule) -> Scorecard | None:
    if rule.score is not None and rule.score.text in d.scorecards:
        return d.scorecards[rule.score.text]
    return None


def _check_ids(c: Compilation, d: Decision, raw: dict[str, Any], base: PathT) -> None:
    seen: dict[str, int] = {}
    for i, rule in enumerate(d.rules):
        if rule.id in seen:
            c.add("duplicate-id", f"规则 id '{rule.id}' 重复(第一次在 rules[{seen[rule.id]}])",
                  base + ("rules", i, "id"))
        else:
            seen[rule.id] = i
        if rule.require is not None:
            _check_condition_ids(c, rule.require, set())
    for name, card in d.scorecards.items():
        ids: set[str] = set()
        for node in _nodes(card.categories):
            if node.id in ids:
                c.problems.add("duplicate-id", f"评分表 '{name}' 中的 id '{node.id}' 重复", node.location)
            ids.add(node.id)
    for name, cl in d.checklists.items():
        ids = set()
        for item in cl.items:
            if item.id in ids:
                c.problems.add("duplicate-id", f"清单 '{name}' 中的 id '{item.id}' 重复", item.location)
            ids.add(item.id)


def _check_condition_ids(c: Compilation, cond: Condition, seen: set[str]) -> None:
    if cond.id:
        if cond.id in seen:
            c.problems.add("duplicate-id", f"条件 id '{cond.id}' 在同一规则中重复", cond.location)
        seen.add(cond.id)
    for ch in cond.children:
        _check_condition_ids(c, ch, seen)


def _nodes(nodes: list[ScoreNode]) -> Iterable[ScoreNode]:
    for n in nodes:
        yield n
        yield from _nodes(n.children)


def _fmt(d: Decimal) -> str:
    from ..values import format_decimal

    return format_decimal(d)


# --------------------------------------------------------------------------------------------------
# 6. dependencies


def stage_dependencies(c: Compilation) -> None:
    assert c.pack is not None
    for d in c.pack.decisions.values():
        with c.part():
            _check_dependencies(c, d)


def _check_dependencies(c: Compilation, d: Decision) -> None:
    cycle = _find_cycle(_dependency_graph(d))
    if cycle:
        first = cycle[0]
        where = (d.derived[first].location if first in d.derived
                 else d.deadlines[first].location if first in d.deadlines
                 else d.scorecards[first].location if first in d.scorecards else d.location)
        c.problems.add("cycle", "循环依赖:" + " → ".join(cycle), where, "派生值、期限或评分不能直接或间接依赖自身")
    d.order = list(d.derived) + list(d.deadlines)


def _dependency_graph(d: Decision) -> dict[str, set[str]]:
    def names(*exprs: CompiledExpr | None) -> set[str]:
        out: set[str] = set()
        for e in exprs:
            if e is not None:
                out |= e.names
        return out

    computed = set(d.derived) | set(d.deadlines) | set(d.scorecards) | {"outcome"} | {r.collect for r in d.rules if r.collect}
    graph: dict[str, set[str]] = {}
    for n, dv in d.derived.items():
        graph[n] = names(dv.expr)
    for n, dl in d.deadlines.items():
        graph[n] = names(dl.date, dl.start, dl.amount, dl.when)
    for n, card in d.scorecards.items():
        deps = names(card.when)
        for node in _nodes(card.categories):
            for line in node.lines:
                deps |= names(line.count, line.when)
        graph[n] = deps
    out: set[str] = set()
    for rule in d.rules:
        deps = names(rule.when, rule.score, rule.over, rule.where, rule.outcome_expr, *[e for _, e in rule.let])
        if rule.require is not None:
            deps |= _condition_names(rule.require)
        if rule.collect:
            graph[rule.collect] = deps - {rule.as_name}
        out |= deps
    for cl in d.checklists.values():
        if cl.outcome:
            out |= names(cl.provided, cl.when, *[i.required_when for i in cl.items])
    graph["outcome"] = out
    return {k: {v for v in vs if v in computed} for k, vs in graph.items()}


def _condition_names(cond: Condition) -> set[str]:
    out = set(cond.check.names) if cond.check is not None else set()
    for e in (cond.over, cond.where):
        if e is not None:
            out |= e.names
    for ch in cond.children:
        out |= _condition_names(ch)
    return out


def _find_cycle(graph: dict[str, set[str]]) -> list[str]:
    WHITE, GREY, BLACK = 0, 1, 2
    color = {n: WHITE for n in graph}
    stack: list[str] = []

    def visit(n: str) -> list[str]:
        color[n] = GREY
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if color.get(m, BLACK) == GREY:
                return stack[stack.index(m):] + [m]
            if color.get(m) == WHITE:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        color[n] = BLACK
        return []

    for n in graph:
        if color[n] == WHITE:
            found = visit(n)
            if found:
                return found
    return []


# --------------------------------------------------------------------------------------------------

STAGES: list[tuple[str, Stage]] = [
    ("load", stage_load),
    ("schema", stage_schema),
    ("model", stage_model),
    ("expressions", stage_expressions),
    ("consistency", stage_consistency),
    ("dependencies", stage_dependencies),
]


def check_pack(directory: str | Path, *, env: Environment | None = None,
               display: str | None = None, use_cache: bool = False) -> tuple[Pack | None, list[Problem]]:
    """Run every stage; return the pack (None if it could not be built) and all problems, sorted.

    ``use_cache`` lets the schema stage skip a pack text it has already seen pass (see engine.schema).
    """
    directory = Path(directory)
    shown = display or str(directory / PACK_FILE)
    c = Compilation(directory, shown, env or builtin_environment(), use_cache=use_cache)
    for _name, stage in STAGES:
        if c.shape_broken and _name != "schema":
            with c.part():  # the pack-level parts of a stage, when the shape is broken
                stage(c)
        else:
            stage(c)
        if c.stopped:
            break
    problems = c.problems.sorted()
    if c.problems.truncated:  # say so rather than let a long list look complete
        problems.append(Problem("too-many-problems", f"问题超过 {c.problems.limit} 个,其余未列出;请先改正以上问题",
                                Location(shown)))
    return (c.pack if not (c.stopped or c.shape_broken) else None), problems


def compile_pack(directory: str | Path, *, env: Environment | None = None,
                 display: str | None = None, use_cache: bool = False) -> Pack:
    """A checked pack, or :class:`PackError` listing every problem."""
    pack, problems = check_pack(directory, env=env, display=display, use_cache=use_cache)
    if problems or pack is None:
        n = len(problems)
        raise PackError(f"政策包 {display or directory} 有 {n} 个问题", problems=problems)
    return pack
