"""What rendering dbt's Jinja stops on, besides a plain `ImportProblem` (`yamlfile`): a
database needed while compiling, a macro nobody defines, and the signal a macro's
`{{ return(x) }}` sends to its caller. The renderer (`jinja`), the namespace a template sees
(`context`) and the native macros all raise these."""

from __future__ import annotations


class NeedsDatabase(Exception):
    """Compiling this needs a database (a query at compile time): not something we can render."""


class QueriesAtRun(NeedsDatabase):
    """It queries the warehouse while compiling (`run_query`, `statement`, dbt_utils'
    `get_column_values`...): rendered when the model runs instead (see `runtime`)."""


class MissingMacro(Exception):
    """A macro neither the project, its packages nor our built-ins define."""


class MissingPackage(MissingMacro):
    """A macro of a package `packages.yml` asks for that is not installed and that we do not
    expand natively."""

    def __init__(self, package: str, macro: str):
        self.package = package
        super().__init__(
            f"{package}.{macro}: the package {package} (packages.yml) is not installed in "
            "dbt_packages/ and not one we expand natively: run `dbt deps` and import again"
        )


class MacroReturn(Exception):
    """dbt's `{{ return(value) }}`: raised inside a macro, caught where it was called, which
    gets `value` instead of the macro's text."""

    def __init__(self, value):
        self.value = value
