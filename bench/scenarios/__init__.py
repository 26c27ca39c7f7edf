"""One module per scenario; each has `run(opts) -> list[dict]` and writes its results file."""
