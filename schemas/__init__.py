"""The JSON Schemas of policy packs and their test files, bundled with skillcert.

Package data only: this file lets importlib.resources find the folder as ``skillcert.schemas`` in a wheel and in
an editable install alike (see ``skillcert.source.resources``). No code lives here.
"""
