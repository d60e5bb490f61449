"""ModernTensor: a proof-of-stake chain for decentralised AI (Python ABCI++ app, CometBFT v0.38)."""

__version__ = "0.1.0"
