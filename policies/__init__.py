"""The policy packs bundled with skillcert: one folder per region (pack.yaml, tests/, examples/).

Package data only: this file lets importlib.resources find the folder as ``skillcert.policies`` in a wheel and in
an editable install alike (see ``skillcert.source.resources``). No code lives here.
"""
