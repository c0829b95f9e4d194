"""orchestrator: a SQL-native data orchestrator that lives inside the warehouse (DuckDB)."""

__version__ = "0.1.0"
