"""Reading files: packs, facts and test files from YAML or JSON, their shape checked against the JSON Schemas.

* :mod:`.loader` — safe YAML/JSON reading with line marks (aliases, duplicate keys and oversized files refused,
  decimals exact); a :class:`~.loader.SourceMap` maps every data path to ``file:line:col``;
* :mod:`.schema` — the only importer of jsonschema: shape problems located at the offending key;
* :mod:`.resources` — where the bundled packs, schemas and docs are, and which folder of packs a command uses.

May import: :mod:`skillcert.errors`, :mod:`skillcert.values`. Nothing here knows what a pack means.
"""
