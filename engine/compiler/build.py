"""Stage 8: the frozen model — a :class:`~.model.Pack` and its :class:`~.model.Decision` objects from the drafts.

Runs only when the pack's shape is sound; the YAML of each decision stays behind in its draft.
"""

from __future__ import annotations

from .compilation import Compilation, DecisionDraft
from .model import Decision, Pack

__all__ = ["stage_build"]


def stage_build(c: Compilation) -> None:
    if c.shape_broken or c.calendar is None:
        return
    decisions: dict[str, Decision] = {}
    pack = Pack(**c.pack_fields, decisions=decisions, calendar=c.calendar)
    for name, draft in c.drafts.items():
        decisions[name] = _decision(draft, pack)  # the pack's mapping is filled here, once
    c.pack = pack


def _decision(d: DecisionDraft, pack: Pack) -> Decision:
    return Decision(
        pack_id=pack.id, name=d.name, title=d.title, description=d.description, source=d.source,
        valid_from=d.valid_from, valid_until=d.valid_until, inputs=d.inputs, parameters=d.parameters,
        derived=d.derived, scorecards=d.scorecards, primary_score=d.primary_score, deadlines=d.deadlines,
        checklists=d.checklists, tables=d.tables, outcomes=d.outcomes, default_outcome=d.default_outcome,
        rules=tuple(d.rules), report=tuple(d.report), location=d.location,
        order=tuple(d.derived) + tuple(d.deadlines),
        parameter_values={n: p.value for n, p in d.parameters.items()},
        summary_by=d.summary_by, pack=pack, document_inputs=d.document_inputs, documents=d.documents,
    )
