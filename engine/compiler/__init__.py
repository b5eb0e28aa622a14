"""The compiler: a pack folder → a checked, frozen model, through named stages that collect every problem.

:mod:`.pipeline` runs the stages in order (:mod:`.reading`, :mod:`.declarations`, :mod:`.expressions`,
:mod:`.consistency`, :mod:`.dependencies`, :mod:`.scorecode`, :mod:`.build`) over a shared
:mod:`.compilation`; :mod:`.model` is what it produces.

May import: :mod:`skillcert.errors`, :mod:`skillcert.values`, :mod:`skillcert.source`, :mod:`skillcert.lang`.
"""
