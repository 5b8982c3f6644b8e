"""The synchronous core of ModelDesk. Nothing here imports a chat adapter."""
