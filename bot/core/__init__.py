"""The synchronous core of ModelDesk. Nothing here imports discord."""
