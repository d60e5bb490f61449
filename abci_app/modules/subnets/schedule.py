"""When each subnet's epoch runs, and the commit-reveal windows between epochs.

Subnet ``n`` runs its epoch at the end of every block with
``(height + n + 1) % (tempo + 1) == 0``: subnets with the same tempo are staggered by netuid, so
32 of them never share a block. The blocks after one epoch up to and including the next epoch's
block form one window, numbered ``(height + n) // (tempo + 1)``. A weights commit made in window
w is revealed in window w + 1 and expires when that window's epoch has run. (Subtensor: an epoch
every ``tempo + 1`` blocks, offset by netuid, ``blocks_until_next_epoch``.)
"""

from __future__ import annotations


def window(netuid: int, tempo: int, height: int) -> int:
    """The number of the window ``height`` is in."""
    return (height + netuid) // (tempo + 1)


def is_epoch_block(netuid: int, tempo: int, height: int) -> bool:
    """Whether the subnet's epoch runs at the end of block ``height``."""
    return (height + netuid + 1) % (tempo + 1) == 0


def next_epoch_height(netuid: int, tempo: int, height: int) -> int:
    """The first block at or after ``height`` whose end runs the subnet's epoch."""
    return height + (-(height + netuid + 1)) % (tempo + 1)
