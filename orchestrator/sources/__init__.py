"""What the declared sources hold, read through an engine: where their files are, whether a
partition has arrived, how fresh and how drifted they are (`freshness`), the statements that
probe a table (`probes`), and the fingerprints of what each holds now (`holdings`).

Imports: core, sql, project, plan, statements, state, engines.
"""
