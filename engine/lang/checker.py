"""Parsing and checking expressions: the allow-list of syntax, names, functions and inferred types.

:func:`compile_expr` parses an expression once, refuses every construct not on the allow-list with a message that
names it, resolves names (with did-you-mean), checks function calls and infers the expression's type. A checked
expression gets its bytecode (:mod:`.bytecode`) here too.

Hostile text never crashes it: size and nesting are measured by a loop right after parsing, before anything
recursive (the checker, the bytecode compiler) sees the tree, so 500 `+` terms or 1,500 unary minus are
``expr-too-large`` at their place; numbers must be plain decimals (``0x10``, ``1_000`` are refused); a function's
arguments are checked down to a list's items (``pluck`` wants records), and a conditional or ``coalesce`` mixing
types that no one type covers (a list and a number) is reported instead of typing silently as "any".
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import did_you_mean
from .bytecode import to_python
from .expr import (
    MAX_DEPTH,
    MAX_EXPR_LENGTH,
    MAX_NODES,
    MAX_STRING_LITERAL,
    CompiledExpr,
    ExprProblem,
    FunctionSpec,
    NameResolver,
)
from .types import ANY, BOOL, DATE, DECIMAL, INTEGER, NULL, TEXT, VType, comparable, describe, unify

__all__ = ["compile_expr", "check_template_names"]


_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Call, ast.Name,
    ast.Attribute, ast.Constant, ast.List, ast.Load, ast.And, ast.Or, ast.Add, ast.Sub, ast.Mult, ast.Div,
    ast.Not, ast.USub, ast.UAdd, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
    ast.Is, ast.IsNot,
)

_NODE_NAMES = {
    ast.Subscript: "下标 x[...] (subscript)", ast.Lambda: "lambda", ast.ListComp: "列表推导 (comprehension)",
    ast.GeneratorExp: "生成器 (generator)", ast.DictComp: "字典推导", ast.SetComp: "集合推导",
    ast.Dict: "字典字面量 {…}", ast.Set: "集合字面量", ast.Tuple: "元组 (a, b)", ast.Starred: "*解包",
    ast.JoinedStr: "f-string", ast.NamedExpr: "赋值表达式 :=", ast.Await: "await", ast.Yield: "yield",
    ast.Pow: "乘方 **", ast.FloorDiv: "整除 //", ast.Mod: "取余 %", ast.BitAnd: "位运算 &", ast.BitOr: "位运算 |",
    ast.BitXor: "位运算 ^", ast.LShift: "位移 <<", ast.RShift: "位移 >>", ast.Invert: "位运算 ~",
    ast.MatMult: "矩阵乘 @", ast.Slice: "切片",
}

_LITERAL_NAMES = {"true": True, "false": False, "True": True, "False": False, "None": None, "null": None}


class _Refused(Exception):
    def __init__(self, code: str, message: str, node: ast.AST | None = None, hint: str = "") -> None:
        super().__init__(message)
        self.problem = ExprProblem(code, message, hint, _offset(node))


def _offset(node: ast.AST | None) -> int:
    return getattr(node, "col_offset", 0) if node is not None else 0


class _Checker:
    """Walks a parsed tree: refuses what is not allowed, resolves names, infers types."""

    def __init__(self, text: str, resolve: NameResolver, functions: Mapping[str, FunctionSpec],
                 problems: list[ExprProblem]) -> None:
        self.text = text
        self.resolve = resolve
        self.functions = functions
        self.problems = problems
        self.names: set[str] = set()
        self.locals: set[str] = set()
        self.called: set[str] = set()
        self.count = 0

    def soft(self, code: str, message: str, node: ast.AST | None, hint: str = "") -> None:
        self.problems.append(ExprProblem(code, message, hint, _offset(node)))

    def check(self, node: ast.AST, depth: int = 0) -> VType:
        self.count += 1
        if self.count > MAX_NODES:
            raise _Refused("expr-too-large", f"表达式过于复杂(超过 {MAX_NODES} 个节点)", node)
        if depth > MAX_DEPTH:
            raise _Refused("expr-too-large", f"表达式嵌套超过 {MAX_DEPTH} 层", node)
        if not isinstance(node, _ALLOWED_NODES):
            what = _NODE_NAMES.get(type(node), type(node).__name__)
            raise _Refused("expr-not-allowed", f"表达式中不允许使用 {what}", node)
        method = getattr(self, "_" + type(node).__name__)
        result: VType = method(node, depth + 1)
        return result

    # ---- leaves
    def _Constant(self, node: ast.Constant, depth: int) -> VType:
        v = node.value
        if isinstance(v, bool):
            return BOOL
        if v is None:
            return NULL
        if isinstance(v, int):
            return INTEGER
        if isinstance(v, Decimal):
            return DECIMAL
        if isinstance(v, str):
            if len(v) > MAX_STRING_LITERAL:
                raise _Refused("expr-too-large", f"文字常量超过 {MAX_STRING_LITERAL} 个字符", node)
            return TEXT
        raise _Refused("expr-not-allowed", f"不支持的常量 {v!r}", node)

    def _Name(self, node: ast.Name, depth: int) -> VType:
        name = node.id
        if name.startswith("_"):
            raise _Refused("expr-not-allowed", f"不允许以下划线开头的名字 '{name}'", node)
        t = self.resolve(name)
        if t is None:
            if name in self.functions:
                raise _Refused("expr-not-allowed", f"函数 '{name}' 只能调用,如 {name}(…)", node)
            self.soft("unknown-name", f"'{name}' 未声明(不是输入、参数、派生值、期限或评分表)", node,
                      did_you_mean(name, _known_names(self.resolve)))
            return ANY
        self.names.add(name)
        is_local = getattr(self.resolve, "is_local", None)
        if is_local is None or is_local(name):
            self.locals.add(name)  # read through the context (element frames); others straight from the table
        return t

    def _List(self, node: ast.List, depth: int) -> VType:
        types = [self.check(e, depth) for e in node.elts]
        return VType("list", item=unify(types) if types else ANY)

    def _Attribute(self, node: ast.Attribute, depth: int) -> VType:
        if node.attr.startswith("_"):
            raise _Refused("expr-not-allowed", f"不允许访问以下划线开头的属性 '{node.attr}'", node)
        base = self.check(node.value, depth)
        if base.kind == "any":
            return ANY
        if base.kind != "record":
            raise _Refused("expr-not-allowed",
                           f"只能对记录(record)取字段,`{ast.unparse(node.value)}` 是 {describe(base)}", node)
        t = base.field(node.attr)
        if t is None:
            self.soft("unknown-name", f"'{ast.unparse(node.value)}' 没有字段 '{node.attr}'", node,
                      did_you_mean(node.attr, base.field_names()))
            return ANY
        return t

    # ---- operators
    def _BoolOp(self, node: ast.BoolOp, depth: int) -> VType:
        for v in node.values:
            self._expect_bool(self.check(v, depth), v, "and/or 的操作数")
        return BOOL

    def _UnaryOp(self, node: ast.UnaryOp, depth: int) -> VType:
        t = self.check(node.operand, depth)
        if isinstance(node.op, ast.Not):
            self._expect_bool(t, node.operand, "not 的操作数")
            return BOOL
        if isinstance(node.op, (ast.USub, ast.UAdd)):
            if not (t.is_numeric or t.kind == "any"):
                self.soft("type-mismatch", f"不能对 {describe(t)} 取负号", node)
            return t
        raise _Refused("expr-not-allowed", "不允许的一元运算", node)

    def _BinOp(self, node: ast.BinOp, depth: int) -> VType:
        if type(node.op) not in (ast.Add, ast.Sub, ast.Mult, ast.Div):
            what = _NODE_NAMES.get(type(node.op), type(node.op).__name__)
            raise _Refused("expr-not-allowed", f"表达式中不允许使用 {what}", node)
        left = self.check(node.left, depth)
        right = self.check(node.right, depth)
        if "any" in (left.kind, right.kind):
            # the other side may still be one that the operator can never take: a list times anything
            known = right if left.kind == "any" else left
            if known.kind not in ("any", "null") and not known.is_numeric and not (
                    isinstance(node.op, ast.Add) and known.kind in ("text", "enum", "list")):
                self.soft("type-mismatch", f"不能对 {describe(known)} 做 {_op_text(node.op)} 运算", node)
            return ANY
        if left.is_numeric and right.is_numeric:
            if isinstance(node.op, ast.Div):
                return DECIMAL
            return INTEGER if left.kind == right.kind == "integer" else DECIMAL
        if isinstance(node.op, ast.Add) and left.kind in ("text", "enum") and right.kind in ("text", "enum"):
            return TEXT
        if isinstance(node.op, ast.Add) and left.kind == right.kind == "list":
            return VType("list", item=unify([left.item or ANY, right.item or ANY]))
        hint = "日期请用 add_days / add_working_days / days_between" if DATE in (left, right) else ""
        self.soft("type-mismatch", f"不能对 {describe(left)} 和 {describe(right)} 做 {_op_text(node.op)} 运算",
                  node, hint)
        return ANY

    def _Compare(self, node: ast.Compare, depth: int) -> VType:
        left_node = node.left
        left = self.check(left_node, depth)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, (ast.Is, ast.IsNot)):
                if not (isinstance(right_node, ast.Constant) and right_node.value is None):
                    raise _Refused("expr-not-allowed", "`is` / `is not` 只能与 None 比较", node)
                right = NULL
            else:
                right = self.check(right_node, depth)
                self._check_compare(op, left, right, left_node, right_node, node)
            left, left_node = right, right_node
        return BOOL

    def _check_compare(self, op: ast.cmpop, left: VType, right: VType, ln: ast.AST, rn: ast.AST,
                       node: ast.AST) -> None:
        if isinstance(op, (ast.In, ast.NotIn)):
            if right.kind == "any" or left.kind == "any":
                return
            if right.kind == "list":
                item = right.item or ANY
                if not comparable(left, item):
                    self.soft("type-mismatch", f"{describe(left)} 不可能在 {describe(right)} 中", node)
                self._check_enum_literals(left, rn)
                self._check_enum_literals(item, ln)
            elif right.kind in ("text",) and left.kind in ("text", "enum") or right.kind == "mapping":
                return
            else:
                self.soft("type-mismatch", f"`in` 的右边应是列表或文字,实际是 {describe(right)}", node)
            return
        if left.kind == "null" or right.kind == "null":
            self.soft("type-mismatch", "与 None 比较请用 `is None` / `is not None`", node)
            return
        if not comparable(left, right):
            self.soft("type-mismatch", f"不能比较 {describe(left)} 和 {describe(right)}", node)
            return
        if isinstance(op, (ast.Lt, ast.LtE, ast.Gt, ast.GtE)) and left.kind in ("bool", "list", "record"):
            self.soft("type-mismatch", f"{describe(left)} 没有大小之分", node)
        self._check_enum_literals(left, rn)
        self._check_enum_literals(right, ln)

    def _check_enum_literals(self, t: VType, other: ast.AST) -> None:
        """``level == 'citty'``: a literal that is not one of the enum's codes."""
        if t.kind != "enum":
            return
        literals: list[ast.Constant] = []
        if isinstance(other, ast.Constant) and isinstance(other.value, str):
            literals = [other]
        elif isinstance(other, ast.List):
            literals = [e for e in other.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
        for lit in literals:
            code = str(lit.value)
            if code not in t.values:
                self.soft("unknown-value", f"'{code}' 不是可选值之一({'、'.join(t.values)})", lit,
                          did_you_mean(code, t.values))

    def _IfExp(self, node: ast.IfExp, depth: int) -> VType:
        self._expect_bool(self.check(node.test, depth), node.test, "if 的条件")
        branches = [self.check(node.body, depth), self.check(node.orelse, depth)]
        if _mixed(branches):
            self.soft("type-mismatch", f"if 的两个分支类型不同:{describe(branches[0])} 与 {describe(branches[1])}",
                      node, "两个分支应是同一类型(都是数值、都是文字……),或其中之一为 None")
        return unify(branches)

    def _Call(self, node: ast.Call, depth: int) -> VType:
        if not isinstance(node.func, ast.Name):
            raise _Refused("expr-not-allowed", "只能按名字调用已登记的函数", node)
        if node.keywords:
            raise _Refused("expr-not-allowed", "函数调用不接受关键字参数", node)
        name = node.func.id
        spec = self.functions.get(name)
        if spec is None:
            if name.startswith("_"):
                raise _Refused("expr-not-allowed", f"不允许以下划线开头的名字 '{name}'", node)
            self.soft("unknown-function", f"未知函数 '{name}'", node, did_you_mean(name, self.functions))
            for a in node.args:
                if isinstance(a, ast.Starred):
                    raise _Refused("expr-not-allowed", "不允许 *解包", a)
                self.check(a, depth)
            return ANY
        self.called.add(name)
        arg_types = []
        for a in node.args:
            if isinstance(a, ast.Starred):
                raise _Refused("expr-not-allowed", "不允许 *解包", a)
            arg_types.append(self.check(a, depth))
        self._check_args(spec, arg_types, node)
        if spec.same_type and _mixed(arg_types):
            self.soft("type-mismatch", f"{spec.name}() 的参数类型不一致:"
                      + "、".join(dict.fromkeys(describe(t) for t in arg_types if t.kind not in ("any", "null"))),
                      node, spec.doc)
        if callable(spec.returns):
            return spec.returns(arg_types)
        return _KIND_TYPES.get(spec.returns.rstrip("?"), ANY)

    def _check_args(self, spec: FunctionSpec, args: list[VType], node: ast.Call) -> None:
        params = list(spec.params)
        variadic = bool(params) and params[-1].endswith("*")
        fixed = params[:-1] if variadic else params
        if len(args) < len(fixed) or (not variadic and len(args) > len(fixed)):
            expected = f"{len(fixed)}{' 个或更多' if variadic else ' 个'}"
            self.soft("wrong-arguments", f"{spec.name}() 需要 {expected}参数,给了 {len(args)} 个", node,
                      spec.doc)
            return
        for i, t in enumerate(args):
            want = params[min(i, len(params) - 1)].rstrip("*")
            if not _accepts(want, t):
                self.soft("type-mismatch",
                          f"{spec.name}() 第 {i + 1} 个参数应为 {_describe_want(want)},实际是 {describe(t)}",
                          node.args[i], spec.doc)

    def _expect_bool(self, t: VType, node: ast.AST, what: str) -> None:
        if t.kind not in ("bool", "any"):
            self.soft("type-mismatch", f"{what}应为布尔值(真/假),实际是 {describe(t)}", node,
                      "比较数量请写成 x > 0" if t.is_numeric else "")


_KIND_TYPES = {"bool": BOOL, "integer": INTEGER, "decimal": DECIMAL, "number": DECIMAL, "date": DATE,
               "text": TEXT, "any": ANY, "list": VType("list", item=ANY)}


def _accepts(want: str, t: VType) -> bool:
    """Whether a parameter declared ``want`` (``number``, ``text?``, ``list[record]``, ``text|list``) takes ``t``."""
    nullable = want.endswith("?")
    want = want.rstrip("?")
    if "|" in want:
        return any(_accepts(w + ("?" if nullable else ""), t) for w in want.split("|"))
    item = ""
    if want.startswith("list[") and want.endswith("]"):
        want, item = "list", want[5:-1]
    if t.kind == "any" or want == "any":
        return True
    if t.kind == "null":
        return nullable
    if want == "number":
        return t.is_numeric
    if want == "integer":
        return t.kind == "integer"
    if want == "text":
        return t.kind in ("text", "enum")
    if want == "list" and item and t.kind == "list" and t.item is not None:
        return _accepts(item + "?", t.item)  # the functions skip empty elements
    return t.kind == want


_WANT_NAMES = {"number": "数值 number", "integer": "整数 integer", "text": "文字 text", "date": "日期 date",
               "bool": "布尔值 bool", "list": "列表 list", "record": "记录 record", "mapping": "映射 mapping",
               "any": "任意值"}


def _describe_want(want: str) -> str:
    want = want.rstrip("?")
    if "|" in want:
        return "或".join(_describe_want(w) for w in want.split("|"))
    if want.startswith("list[") and want.endswith("]"):
        return f"列表 list[{_describe_want(want[5:-1])}]"
    return _WANT_NAMES.get(want, want)


def _mixed(types: list[VType]) -> bool:
    """Known types that no one type covers (a list and a number, a text and a date): the result would be "any"."""
    real = [t for t in types if t.kind not in ("any", "null")]
    return len(real) > 1 and unify(real).kind == "any"


def _op_text(op: ast.operator) -> str:
    return {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}.get(type(op), "?")


def _known_names(resolve: NameResolver) -> list[str]:
    names = getattr(resolve, "names", None)
    return list(names()) if callable(names) else []


def _measure(tree: ast.expr) -> ExprProblem | None:
    """Nodes and nesting counted without recursion, as the checker counts them: 500 `+` terms or 900 `not` in a row
    are refused here, at the node where a limit is passed, before anything recursive can overflow the stack."""
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            return ExprProblem("expr-too-large", f"表达式过于复杂(超过 {MAX_NODES} 个节点)", "", _offset(node))
        if depth > MAX_DEPTH:
            return ExprProblem("expr-too-large", f"表达式嵌套超过 {MAX_DEPTH} 层", "", _offset(node))
        for child in ast.iter_child_nodes(node):
            if isinstance(child, _UNCOUNTED) or (isinstance(node, ast.Call) and child is node.func):
                continue
            stack.append((child, depth + 1))
    return None


_UNCOUNTED = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)
_PLAIN_NUMBER = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _source_decimals(text: str, tree: ast.AST) -> None:
    """Replace binary-float literals by exact decimals taken from the source text (0.1 stays 0.1); refuse numbers
    not written as plain decimals (0x10, 0o17, 0b101, 1_000), which the notices and facts never use."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
                and not isinstance(node.value, bool):
            segment = ast.get_source_segment(text, node) or repr(node.value)
            if not _PLAIN_NUMBER.fullmatch(segment):
                raise _Refused("expr-not-allowed", f"数字 `{segment}` 请按普通十进制书写"
                               "(不接受 0x、0o、0b 前缀或下划线分隔)", node)
            if isinstance(node.value, float):
                try:
                    exact = Decimal(segment)
                except InvalidOperation:  # pragma: no cover - a plain decimal always converts
                    exact = Decimal(repr(node.value))
                node.value = exact  # type: ignore[assignment]  # ast allows any constant at run time
        elif isinstance(node, ast.Constant) and isinstance(node.value, complex):
            raise _Refused("expr-not-allowed", "不支持复数", node)


class _LiteralNames(ast.NodeTransformer):
    """``true``/``false``/``null`` (YAML habits) are literals, not names."""

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in _LITERAL_NAMES:
            return ast.copy_location(ast.Constant(_LITERAL_NAMES[node.id]), node)
        return node


_TEXT_OPERATORS = re.compile(r"(?<![=!<>])(&&|\|\|)")


def compile_expr(source: Any, resolve: NameResolver, functions: Mapping[str, FunctionSpec],
                 problems: list[ExprProblem]) -> CompiledExpr | None:
    """Parse and check one expression. Problems are appended; None means it cannot be used at all."""
    if isinstance(source, bool):
        text = "True" if source else "False"
    elif isinstance(source, (int, Decimal)):
        text = str(source)
    elif isinstance(source, str):
        text = source
    else:
        problems.append(ExprProblem("expr-syntax", f"表达式应是文字或数值,实际是 {type(source).__name__}"))
        return None
    if not text.strip():
        problems.append(ExprProblem("expr-syntax", "表达式为空"))
        return None
    if len(text) > MAX_EXPR_LENGTH:
        problems.append(ExprProblem("expr-too-large", f"表达式超过 {MAX_EXPR_LENGTH} 个字符"))
        return None
    m = _TEXT_OPERATORS.search(text)
    if m:
        problems.append(ExprProblem("expr-syntax", f"不支持 `{m.group(1)}`", "请用 and / or", m.start()))
        return None
    stripped = text.strip()
    try:
        parsed = ast.parse(stripped, mode="eval")
    except RecursionError:  # the parser's own limit, far beyond ours: 1,500 unary minus in a row
        problems.append(ExprProblem("expr-too-large", f"表达式嵌套超过 {MAX_DEPTH} 层"))
        return None
    except SyntaxError as exc:
        offset = max((exc.offset or 1) - 1, 0)
        if "too many nested" in exc.msg:
            problems.append(ExprProblem("expr-too-large", f"表达式嵌套超过 {MAX_DEPTH} 层", "", offset))
        else:
            problems.append(ExprProblem("expr-syntax", f"表达式语法错误:{exc.msg}", "", offset))
        return None
    too_large = _measure(parsed.body)  # before anything recursive (the checker, the bytecode compiler) sees it
    if too_large is not None:
        problems.append(too_large)
        return None
    tree = _LiteralNames().visit(parsed)
    checker = _Checker(stripped, resolve, functions, problems)
    try:
        _source_decimals(stripped, tree)
        t = checker.check(tree.body)
    except _Refused as refused:
        problems.append(refused.problem)
        return None
    compiled = CompiledExpr(stripped, tree.body, t, frozenset(checker.names), frozenset(checker.called),
                            local_names=frozenset(checker.locals))
    if not problems:
        compiled.fn = to_python(compiled, functions)
    return compiled


def check_template_names(template: str) -> list[str]:
    """The ``{name}`` / ``{record.field}`` placeholders of a message template."""
    return re.findall(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\}", template)
