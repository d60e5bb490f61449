"""Validators, delegations, unbonding, redelegation, the validator set sent to CometBFT and the
slashing mechanics (``slash.py``); the hooks distribution implements (``hooks.py``)."""
