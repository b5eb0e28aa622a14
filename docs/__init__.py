"""The guide to the pack format, bundled with skillcert.

Package data only: this file lets importlib.resources find the folder as ``skillcert.docs`` in a wheel and in an
editable install alike. No code lives here.
"""
