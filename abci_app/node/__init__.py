"""Running a node: home-folder layout, CometBFT config and genesis, and the process supervisor."""
