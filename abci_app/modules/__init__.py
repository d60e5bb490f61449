"""The chain's modules. Each owns its messages (``messages.py``), their handlers
(``handlers.py``), its records (``state.py``), params, genesis section (``genesis.py``),
invariants, query routes, and declares them in ``module.py``; ``spec.py`` is the shape of that
declaration. Imports between modules: bank <- staking <- distribution, slashing; subnets <- bank.
"""
