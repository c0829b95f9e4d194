"""The `orchestrator` command. Parses arguments, calls `app`, prints; no logic lives here.

`main` is the root group and the entry point; `options` the options every command shares;
the commands by concern in `building` (plan, run, backfill, retry), `looking` (status, runs,
dag, compile, sql, check), `operating` (schedule, freshness, adopt, verify, prune, ui, report),
`making` (init, import), `lineage` (a column's lineage), `unit_testing` (test) and
`environments` (env, diff, promote); `workspace` loads the project a command works on;
`report` is how results read on a terminal.

Imports: anything below (it is the top face).
"""
