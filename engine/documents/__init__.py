"""Documents: the notices and forms a decision produces, as Word files rendered from the pack's templates.

* :mod:`.layout` — the official-document page set-up and fonts (GB/T 9704) and the east-Asian font on every run;
* :mod:`.inputs` — the document inputs (names, dates and numbers the rules do not use), split from the facts and
  checked for the documents that need them;
* :mod:`.context` — the names a template sees: the result's, formatted as officials write them;
* :mod:`.render` — a template (docxtpl, Jinja2 sandboxed) → the bytes of a ``.docx``, with its verification code;
* :mod:`.verification` — the code, the facts and result embedded in the file, and what differs on re-evaluation;
* :mod:`.checks` — ``skillcert validate``'s checks of a template (opens, tags parse, names and outcomes exist);
* :mod:`.pdf` — conversion to PDF with LibreOffice, where it is installed.

Above the runtime and the renderers, below the library and the command line: it renders a result it is given and
never evaluates (``skillcert verify`` re-evaluates through the library).
"""
