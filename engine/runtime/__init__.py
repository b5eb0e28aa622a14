"""Evaluation, pure: a compiled decision + facts + an as-of date → a decision result. No I/O.

* :mod:`.facts` — facts checked against the decision's inputs (pydantic), every problem named and located;
  :mod:`.factcheck` — its compiled fast path for facts it accepts as they stand (pydantic decides the rest);
* :mod:`.context` — one evaluation's state: the table of values computed on demand, local names, memos;
* :mod:`.scoring`, :mod:`.deadlines`, :mod:`.rules`, :mod:`.checklists`, :mod:`.tables`, :mod:`.messages` —
  what the names of a decision mean, one concept each; :mod:`.tracer` — the calculation trace of ``--explain``;
* :mod:`.result` — the result; :mod:`.evaluate` — wires them together.

May import: :mod:`skillcert.errors`, :mod:`skillcert.values`, :mod:`skillcert.source`, :mod:`skillcert.lang`,
:mod:`skillcert.compiler`.
"""
