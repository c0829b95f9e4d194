"""Deciding, as pure functions over values: what `run` builds and why (the planner, composing
one module per decision: request, windows, staleness, reasons, holds, deps, batching), what
`retry` reruns, and which command fixes a red partition (remedies). No I/O.

Imports: core, sql, project.
"""
