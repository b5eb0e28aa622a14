"""Rendering results: output formats (text or bytes), the Chinese text report, the contract's JSON, text tables.

May import every lower layer (errors and values, source, lang, compiler, runtime); never the library or the tools.
"""
