"""The local web UI: `orchestrator ui` serves read-only pages and their JSON over the state."""
