"""The expression language of packs: value types, checked expressions, functions and working days.

* :mod:`.types` — value types and how they combine; :mod:`.expr` — what a checked expression is;
* :mod:`.checker` — parsing against the allow-list, names, functions, type inference;
* :mod:`.bytecode` — checked trees compiled to Python bytecode; :mod:`.reference` — simpleeval, the reference;
* :mod:`.functions` — the built-in functions; :mod:`.calendar` — PRC working days with make-up days (调休);
* :mod:`.environment` — the functions and holiday years a pack compiles and evaluates against.

May import: :mod:`skillcert.errors`, :mod:`skillcert.values`, :mod:`skillcert.source`. Knows nothing of packs.
"""
