"""The e2e fault runner (``moderntensor e2e run``), after CometBFT's ``test/e2e``.

A manifest (:mod:`.manifest`) describes a loopback localnet, a workload and perturbations;
:mod:`.network` builds and runs the nodes, :mod:`.proxy` carries every P2P link so a node can be
cut off without touching its processes, :mod:`.workload` sends transfers, staking and subnet
txs, :mod:`.perturb` applies kill/pause/restart/disconnect/crash_at/upgrade, :mod:`.invariants`
checks the chain, :mod:`.report` prints the outcome and :mod:`.runner` ties them together.

Tooling on top of the node: consensus code never imports this package.
"""
