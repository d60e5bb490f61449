"""Slashing: downtime over a sliding window of blocks, double signing from CometBFT evidence,
jail, tombstone and unjail (in the spirit of Cosmos SDK x/slashing)."""
