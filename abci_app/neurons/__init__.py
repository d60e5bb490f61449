"""Neurons: the off-chain half of a subnet, on top of the SDK (``abci_app.client``).

A miner serves a model behind an **axon** (``POST /v1/forward``); a validator calls axons through
a **dendrite** with requests signed by its hotkey, keeps a **metagraph** synced from the chain,
scores the answers with a **task** plug-in and sets weights (commit-reveal handled for it).
Consensus code never imports this package (imports go one way: neurons -> client -> chain types).

Wire format, signing and the task plug-in are described in README.md ("Run a subnet").
"""
