"""The project as values, and reading it from disk: models and their headers, checks, sources
declared in `orchestrator.toml`, seeds, jobs and owners, access roles, schedules (cron), the
model graph and selectors, the parse cache, the loader that makes one `Project` of it all,
`init`'s scaffold, and unit tests (`unit_tests/*.yml`, YAML read with its lines) as values.

Imports: core, sql.
"""
