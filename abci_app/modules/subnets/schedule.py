"""When each subnet's epoch runs, and the commit-reveal windows between epochs.

Subnet ``n`` runs its epoch at the end of every block with
``(height + n + 1) % (tempo + 1) == 0``: subnets with the same tempo are staggered by netuid, so
32 of them never share a block. The blocks after one epoch up to and including the next epoch's
block form one window, numbered ``(height + n) // (tempo + 1)``. A weights commit is revealed in
the window after its own: :func:`reveal_window` gives its first and last block, which the commit
keeps (a later tempo change moves no pending commit; subtensor stores each commit's epoch), and
it expires when that last block has run. (Subtensor: an epoch every ``tempo + 1`` blocks, offset
by netuid, ``blocks_until_next_epoch``.)
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


def reveal_window(netuid: int, tempo: int, height: int) -> tuple[int, int]:
    """(first, last) block in which a commit made at ``height`` may be revealed: the window
    after the commit's, from the block after the next epoch up to and including the epoch
    after it."""
    first = next_epoch_height(netuid, tempo, height) + 1
    return first, next_epoch_height(netuid, tempo, first)
