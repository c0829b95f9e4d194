"""The local web UI: `orchestrator ui` serves read-only pages and their JSON over the state.

Imports: the layers below, up to `app` (the UI is a face: it reads what `app` composes).
"""
