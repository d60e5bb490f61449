"""Block rewards: emission by a halving schedule plus fees, paid to the validators that signed
the previous block, with a proposer bonus, commission, and an O(1) reward-per-share accumulator
for delegators (in the spirit of Cosmos's F1 distribution)."""
