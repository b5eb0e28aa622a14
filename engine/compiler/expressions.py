"""Stage 4: every expression of every decision parsed once, its names resolved and its type inferred.

The parts of a decision made of expressions are compiled here, in dependency order where types need it: derived
values (each on first use, so its type is known where it is used), deadlines, scorecards, checklists, tables, rules
(with their conditions, bands and per-element names), and the names in ``report`` and in message templates.
Numbers other than 0 and 1 written in an expression are refused (``literal-number``): the notice's numbers are
parameters, named once.
"""

from __future__ import annotations

import ast
import re
from decimal import Decimal
from typing import Any

from ..errors import Location, did_you_mean
from ..lang.checker import check_template_names, compile_expr
from ..lang.expr import CompiledExpr, ExprProblem
from ..lang.types import ANY, BOOL, DATE, DECIMAL, NULL, TEXT, VType, describe, type_of_value
from ..source.loader import PathT
from .compilation import ALLOWED_LITERALS, Compilation, DecisionDraft
from .model import (
    Band,
    Checklist,
    ChecklistItem,
    Condition,
    Deadline,
    Derived,
    Rule,
    Scorecard,
    ScoreLine,
    ScoreNode,
    Table,
    TableColumn,
)

__all__ = ["stage_expressions"]


class _Scope:
    """Name → type for one decision while compiling; derived types are inferred on first use."""

    def __init__(self, c: Compilation, decision: DecisionDraft, raw: dict[str, Any], base: PathT) -> None:
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


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _derived_order(derived: dict[str, Any]) -> list[str]:
    """The derived values, each after the derived values its expression names (as far as the text shows: a word in
    a text literal may add an edge, which only changes the order). Iterative, so a chain of three thousand derived
    values declared last-first costs a loop, not the stack; a cycle is broken anywhere (the dependencies stage
    reports it)."""
    names = list(derived)
    deps: dict[str, list[str]] = {}
    for name in names:
        spec = derived[name]
        text = spec.get("expr", "") if isinstance(spec, dict) else ""
        deps[name] = [w for w in dict.fromkeys(_WORD.findall(str(text))) if w in derived and w != name]
    order: list[str] = []
    done: set[str] = set()
    for root in names:
        if root in done:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        done.add(root)
        while stack:
            name, i = stack.pop()
            if i < len(deps[name]):
                stack.append((name, i + 1))
                dep = deps[name][i]
                if dep not in done:
                    done.add(dep)
                    stack.append((dep, 0))
            else:
                order.append(name)
    return order


def _literal_numbers(expr: CompiledExpr) -> list[ExprProblem]:
    """Numbers from the notice belong in ``parameters``, named once; only 0 and 1 may stand in expressions."""
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
    for d in c.drafts.values():
        with c.part():
            _compile_decision_exprs(c, d, d.raw, d.base)


def _compile_decision_exprs(c: Compilation, d: DecisionDraft, raw: dict[str, Any], base: PathT) -> None:
    scope = _Scope(c, d, raw, base)
    for name in _derived_order(raw.get("derived", {})):
        scope(name)  # dependencies first, so that typing one never recurses through a long chain of others
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
        # the scorecard's own source (e.g. 附件3) is too coarse to stand for an item's clause
        categories = tuple(_score_node(scope, n, p + ("categories", i), False, "")
                           for i, n in enumerate(spec["categories"]))
        d.scorecards[name] = Scorecard(
            name=name, label=spec["label"], max=Decimal(spec["max"]),
            when=scope.expr(spec["when"], p + ("when",), BOOL, "when") if "when" in spec else None,
            source=spec["source"], categories=categories, location=c.loc(p, key=True),
            category_leaves={cat.id: cat.leaves() for cat in categories},
        )

    for name, spec in raw.get("checklists", {}).items():
        p = base + ("checklists", name)
        items = tuple(
            ChecklistItem(
                id=it["id"], label=it["label"],
                required_when=(scope.expr(it["required_when"], p + ("items", i, "required_when"), BOOL,
                                          "required_when") if "required_when" in it else None),
                source=it.get("source", spec["source"]), location=c.loc(p + ("items", i)),
            )
            for i, it in enumerate(spec["items"])
        )
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
    children = tuple(_score_node(scope, s, path + ("items", i), bonus, source or inherited_source)
                     for i, s in enumerate(spec.get("items", [])))
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
                     source=source or inherited_source, children=children, lines=tuple(lines),
                     location=scope.c.loc(path))
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
            children = tuple(_condition(scope, s, path + (op, i), own_source) for i, s in enumerate(spec[op]))
            return Condition(op, spec.get("id", ""), None, children, spec.get("message", ""), own_source,
                             scope.c.loc(path))
    if "not" in spec:
        child = _condition(scope, spec["not"], path + ("not",), own_source)
        return Condition("not", spec.get("id", ""), None, (child,), spec["message"], own_source, scope.c.loc(path))
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
        return Condition("each", spec.get("id", ""), None, (child,), spec.get("message", ""), own_source,
                         scope.c.loc(path), over=over, as_name=spec["as"], element_name=spec["name"], where=where)
    check = scope.expr(spec["check"], path + ("check",), BOOL, "check")
    return Condition("check", spec.get("id", ""), check, (), spec["message"], own_source, scope.c.loc(path))


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
    parts: dict[str, Any] = {}
    if "outcome" in spec and spec["outcome"] not in scope.decision.outcomes and kind != "bands":
        parts.update(_outcome_expression(scope, spec["outcome"], path + ("outcome",)))
    if kind == "conditions":
        parts["require"] = _condition(scope, spec["require"], path + ("require",), spec["source"])
    elif kind == "bands":
        parts["score"] = scope.expr(spec["score"], path + ("score",), VType("decimal"), "score")
        parts["bands"] = tuple(
            Band(min=_constant_number(scope, b.get("min"), path + ("bands", i, "min")),
                 below=_constant_number(scope, b.get("below"), path + ("bands", i, "below")),
                 outcome=b["outcome"], message=b.get("message", ""), location=scope.c.loc(path + ("bands", i)))
            for i, b in enumerate(spec["bands"]))
    elif kind == "each":
        parts.update(_each_parts(scope, spec, path))
    fields: dict[str, Any] = dict(id=spec["id"], kind=kind, source=spec["source"],
                                  description=spec.get("description", ""), when=when, outcome=spec.get("outcome"),
                                  message=spec.get("message", ""), location=scope.c.loc(path))
    fields.update(parts)
    return Rule(**fields)


def _each_parts(scope: _Scope, spec: dict[str, Any], path: PathT) -> dict[str, Any]:
    """An `each` rule: the list, the element's name, per-element `let` names, `where`, `require`, `collect`."""
    over = scope.expr(spec["over"], path + ("over",), VType("list", item=ANY), "over")
    item = over.type.item if over is not None and over.type.item is not None else ANY
    if scope(spec["as"]) is not None:
        scope.c.add("duplicate-name", f"元素名 '{spec['as']}' 与已声明的名字重复", path + ("as",))
    frame: dict[str, VType] = {spec["as"]: item}
    let: list[tuple[str, CompiledExpr]] = []
    where = None
    scope.locals.append(frame)
    try:
        for name, source in spec.get("let", {}).items():
            lp = path + ("let", name)
            if scope(name) is not None:
                scope.c.add("duplicate-name", f"'{name}' 与已声明的名字重复", lp, key=True)
            compiled = scope.expr(source, lp)
            if compiled is not None:
                let.append((name, compiled))
            frame[name] = compiled.type if compiled is not None else ANY
        local_types = dict(frame)
        if "where" in spec:
            where = scope.expr(spec["where"], path + ("where",), BOOL, "where")
        require = _condition(scope, spec["require"], path + ("require",), spec["source"])
    finally:
        scope.locals.pop()
    collect = spec.get("collect", "")
    if collect:
        scope.fixed[collect] = VType("list", item=item)
    return dict(over=over, as_name=spec["as"], element_name=spec["name"], collect=collect, let=tuple(let),
                local_types=local_types, where=where, require=require)


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
    return Table(name, spec["label"], spec["source"], rows, spec["as"], tuple(columns),
                 scope.c.loc(path, key=True))


_ID = re.compile(r"^[a-z][a-z0-9_]*$")


def _outcome_expression(scope: _Scope, source: str, path: PathT) -> dict[str, Any]:
    """An outcome that depends on the facts: an expression (or a derived value) whose text literals are codes.

    ``outcome: "'interview_and_credit' if rectified_in_time == false else 'rectify'"``. A bare id is an outcome
    code when one is declared by that name, else a declared name; otherwise it is an unknown outcome.
    """
    if not isinstance(source, str):  # YAML made it a date or a number: reported by consistency as unknown-outcome
        return {}
    if _ID.match(source) and scope(source) is None:
        return {}  # reported by the consistency stage as unknown-outcome, with a did-you-mean
    expr = scope.expr(source, path, TEXT, "outcome")
    if expr is None:
        return {}
    tree = expr.tree
    if isinstance(tree, ast.Name) and tree.id in scope.decision.derived:
        tree = scope.decision.derived[tree.id].expr.tree
    codes = tuple(n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str))
    if not codes:
        scope.c.add("unknown-outcome", f"outcome 表达式 `{source}` 中没有任何结论代码", path,
                    "写成 '代码A' if 条件 else '代码B'")
    return dict(outcome=None, outcome_expr=expr, outcome_codes=codes)


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


def _check_templates(c: Compilation, d: DecisionDraft, raw: dict[str, Any], base: PathT, scope: _Scope) -> None:
    """Rule-level messages (condition messages are checked where they are compiled, in their scope)."""
    for i, spec in enumerate(raw["rules"]):
        rp = base + ("rules", i)
        rule = d.rules[i]
        local = dict(rule.local_types or {spec["as"]: ANY}) if spec["kind"] == "each" else {}
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
