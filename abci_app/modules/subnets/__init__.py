"""AI subnets: registration, neurons, weights with commit-reveal, Yuma consensus epochs."""
