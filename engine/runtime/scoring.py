"""Scorecards: each leaf's score (deductions 扣完为止, awards capped), subtotals, totals and the item-by-item view.

Totals come from the card's compiled function (one Python function for the whole card, see
:mod:`skillcert.compiler.scorecode`) when only totals are wanted; with the item-by-item detail wanted, or when that
function fails (then the line-by-line path says precisely which expression failed), leaves are scored line by line.
Every result is remembered in the evaluation's memo, so a card is scored once per evaluation.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..compiler.model import Scorecard, ScoreNode
from ..errors import EvaluationError
from ..lang.expr import OutOfRange, describe_value, is_number
from .context import Context
from .result import ItemScore

__all__ = ["card_total", "category_totals", "item_scores", "score_leaves"]


def card_total(ctx: Context, name: str) -> Decimal | None:
    """A scorecard's total (None when its `when` does not hold); leaves are scored once, flat."""
    key = "total:" + name
    memo = ctx.memo
    if key not in memo:
        card = ctx.decision.scorecards[name]
        memo[key] = _totals(ctx, card)[0] if ctx.test(card.when) else None
    total: Decimal | None = memo[key]
    return total


def category_totals(ctx: Context, name: str) -> dict[str, Decimal | None]:
    card = ctx.decision.scorecards[name]
    if card_total(ctx, name) is None:
        return {node.id: None for node in card.categories}
    return dict(_totals(ctx, card)[1])


_FAILED = (EvaluationError, OutOfRange, TypeError, AttributeError, ArithmeticError, ValueError, LookupError)


def _totals(ctx: Context, card: Scorecard) -> tuple[Decimal, dict[str, Decimal]]:
    """The total and each category's subtotal: the card's compiled totals function on the batch path (one call),
    else from the leaves' scores."""
    key = "totals:" + card.name
    cached: tuple[Decimal, dict[str, Decimal]] | None = ctx.memo.get(key)
    if cached is None:
        if card.totals is not None and not ctx.reference and not ctx.detail:
            try:
                total, subtotals = card.totals(ctx)
                cached = (total, dict(zip(card.category_leaves, subtotals, strict=True)))
            except _FAILED:
                cached = None  # the line-by-line path below says precisely which expression failed
        if cached is None:
            scores = _leaf_scores(ctx, card)
            cached = (sum(scores.values(), Decimal(0)),
                      {cid: sum((scores[leaf.id] for leaf in cl), Decimal(0))
                       for cid, cl in card.category_leaves.items()})
        ctx.memo[key] = cached
    return cached


def item_scores(ctx: Context, name: str) -> ItemScore | None:
    """The scorecard item by item, for the result and the report (built from the scored leaves, or given by the
    decision's generated function)."""
    if card_total(ctx, name) is None:
        return None
    given: ItemScore | None = ctx.memo.get("items:" + name)
    if given is not None:
        return given
    card = ctx.decision.scorecards[name]
    leaves = score_leaves(ctx, card)

    def build(node: ScoreNode) -> ItemScore:
        if node.children:
            items = [build(ch) for ch in node.children]
            return ItemScore(node.id, node.label, node.max, sum((i.score for i in items), Decimal(0)),
                             node.source, node.bonus, items=items)
        score, lines = leaves[node.id]
        return ItemScore(node.id, node.label, node.max, score, node.source, node.bonus, lines=lines)

    categories = [build(n) for n in card.categories]
    return ItemScore(card.name, card.label, card.max, sum((c.score for c in categories), Decimal(0)),
                     card.source, items=categories)


def _leaf_scores(ctx: Context, card: Scorecard) -> dict[str, Decimal]:
    """Every leaf's score: the card's compiled function when there is one, else line by line."""
    key = "scores:" + card.name
    cached: dict[str, Decimal] | None = ctx.memo.get(key)
    if cached is None:
        scores = None
        # with the item-by-item detail wanted, the line-by-line scoring below gives both: don't score twice
        if card.fast is not None and not ctx.reference and not ctx.detail:
            try:
                scores = card.fast(ctx)
            except _FAILED:
                scores = None  # the line-by-line path below says precisely which expression failed
        if scores is not None:
            ids = [leaf.id for leaves in card.category_leaves.values() for leaf in leaves]
            cached = dict(zip(ids, scores, strict=True))
        else:
            cached = {leaf_id: score for leaf_id, (score, _) in score_leaves(ctx, card).items()}
        ctx.memo[key] = cached
    return cached


def score_leaves(ctx: Context, card: Scorecard) -> dict[str, tuple[Decimal, list[dict[str, Any]]]]:
    """Every leaf scored line by line: {leaf id: (score, [the deduction or award lines that applied])}."""
    key = "leaves:" + card.name
    cached = ctx.memo.get(key)
    if cached is None:
        cached = {leaf.id: _score_leaf(ctx, leaf) for leaves in card.category_leaves.values() for leaf in leaves}
        ctx.memo[key] = cached
    return cached


def _score_leaf(ctx: Context, node: ScoreNode) -> tuple[Decimal, list[dict[str, Any]]]:
    lines = []
    total = Decimal(0)
    for line in node.lines:
        if line.when is not None and not ctx.test(line.when):
            continue
        if line.per is not None:
            assert line.count is not None
            count = ctx.run(line.count)
            if count is None:
                continue
            if count.__class__ is not int and not is_number(count):
                raise EvaluationError(f"评分项「{line.label}」的次数 `{line.count.text}` 应得出数值,实际得出 "
                                      f"{describe_value(count)}", code="expression-failed")
            if count <= 0:
                continue
            points = line.per * count
            lines.append({"label": line.label, "count": count, "per": line.per, "points": points})
        else:
            assert line.points is not None
            points = line.points
            lines.append({"label": line.label, "points": points})
        total += points
    if node.bonus:
        return min(node.max, total), lines
    return max(Decimal(0), node.max - total), lines  # 扣完为止: never below zero, never into another item
