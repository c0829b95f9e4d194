"""What each page of the UI shows, as plain JSON-ready dicts: one module per page (the
`/api/...` endpoints return them as they are; the templates render them). `shared` holds what
several pages use (readiness, letters, partition cells, reading the state); `memo` remembers
pages and the project's status for one state of the world."""
