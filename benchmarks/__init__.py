"""The benchmark suite: synthetic projects (generate.py) measured against raw DuckDB (run.py)."""
