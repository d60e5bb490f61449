"""Validators and bonded stake. So far: genesis validators (gentx) and the initial validator set."""
