"""Engine errors as the API's JSON errors: ``{"code", "message", "problems": [...]}`` with an HTTP status.

The codes and messages are the command line's (the same :class:`~skillcert.errors.SkillcertError`); a problem of
the facts also names its key and the input's Chinese label. The server's own refusals (a malformed body, a missing
token, a body too large) have codes of their own, listed in :data:`STATUS`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..errors import Problem, SkillcertError
from ..runtime.facts import label_of_path

if TYPE_CHECKING:
    from ..compiler.model import Decision

__all__ = ["STATUS", "error_body", "status_of"]

STATUS = {
    "facts-invalid": 422,
    "document-input-missing": 422,
    "out-of-period": 422,          # a well-formed request the pack's period refuses (as facts-invalid: unprocessable)
    "calendar-year-unknown": 422,
    "evaluation-error": 422,
    "unknown-decision": 404,
    "not-found": 404,
    "body-invalid": 400,
    "request-invalid": 400,
    "usage-error": 400,
    "unauthorized": 401,
    "method-not-allowed": 405,
    "body-too-large": 413,
    "pack-invalid": 503,           # the operator's packs, not the caller's request
    "log-unavailable": 503,
    "internal-error": 500,
}

_STEP = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def status_of(code: str) -> int:
    return STATUS.get(code, 400)


def _path(key: str) -> tuple[Any, ...]:
    return tuple(int(m.group(1)) if m.group(1) is not None else m.group(2) for m in _STEP.finditer(key))


def problem_json(problem: Problem, decision: Decision | None) -> dict[str, Any]:
    key = problem.location.path
    label = label_of_path(decision, _path(key)) if decision is not None and key else ""
    out: dict[str, Any] = {"code": problem.code, "key": key, "label": label, "message": problem.message}
    if problem.hint:
        out["hint"] = problem.hint
    return out


def error_body(code: str, message: str, problems: list[Problem] | None = None,
               decision: Decision | None = None, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, "problems": [problem_json(p, decision) for p in problems or []],
            **extra}


def error_of(exc: SkillcertError, decision: Decision | None = None) -> dict[str, Any]:
    return error_body(exc.code, exc.message, exc.problems, decision)
