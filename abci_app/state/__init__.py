"""Consensus state: SQLite store, per-block overlays and the Merkle app hash."""
