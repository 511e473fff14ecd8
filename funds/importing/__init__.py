"""The roster import pipeline, in the order a file goes through it.

1. ``filesafety``  — refuse what is not a spreadsheet, or is a zip bomb, an XML trap or a sheet
   too large to build (``sandbox`` opens workbooks in a child process with memory and CPU
   limits, so that a reader that aborts takes only the child with it);
2. ``grids``       — the file as grids of cells (calamine for workbooks, CSV in UTF-8/GBK);
3. ``headers``     — which column holds which field (``aliases`` is the vocabulary), and the
   places named in the title rows and the sheet name; ``mapping`` checks the mappings staff
   give where the headers cannot settle it (the mapping page, saved templates, ``--map``);
4. ``cells``       — one cell's value: money, measures, dates, accounts, ID numbers;
5. ``roster``      — every row under the header, validated; ``read_roster`` returns a
   ``parsed.ParsedRoster`` with every error and warning at its sheet, row and column;
6. ``staging``     — masks and keyed hashes only from here on (``privacy.personal``);
7. ``loading``     — persons, households and payment rows written in one transaction, chunk by
   chunk on a loader thread (COPY on PostgreSQL), references checked per statement
   (``refchecks``);
8. ``jobs``        — the flow around them: ``import_roster`` (the command, the demo) and
   ``stage_roster`` / ``confirm_import`` (the staff pages), one load path for all, each
   answering with a ``reports.ImportReport``; ``tasks`` runs the staff flow's halves in the
   background, and ``retention`` deletes the files an import leaves once they have served;
9. ``errorreport`` — the masked workbook of problems staff download.

``parsed`` holds the reader's plain result types; ``gcpause`` keeps the collector out of the
hot loops. Nothing here is imported by the floors below (``villages``, ``privacy``).
"""
