"""The values every layer shares, with no I/O and no knowledge of the project: errors and how
they read, the status vocabulary, the clock, partitions and windows, quoting, the planner's tasks
and snapshot, source fingerprints, column types, crash points, the one transaction construct,
and rows compared with expected rows.

Imports: nothing else of the package (the layers, bottom up: core, sql, project, plan, statements,
state, engines, sources, execution, app, then the faces importers, ui, cli; each imports only
from the layers below it and from itself; `tests/test_layers.py` holds every module to that).
"""
