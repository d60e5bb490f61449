"""The test-token faucet: an HTTP service that sends tokens from a faucet key through RPC."""
