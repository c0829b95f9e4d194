"""The Spark engine, for projects with `[engine] kind = "spark"`: the engine on a session
(`engine`), the catalog its cursors share (`catalog`), the session's start-up (`session`), the
files a table holds and the moves that publish them (`files`), Spark SQL's statements, types and
errors (`native`), each kind of model's writes (`writes`), whether Spark can start here
(`ready`), and the analysis of a run's SQL before it writes anything (`analysis`).

Within it, `native` and `files` are at the bottom, `writes` and `catalog` above them, `engine`
on top.

Imports: the layers below `engines`, and `engines` itself.
"""
