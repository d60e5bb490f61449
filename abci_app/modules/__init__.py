"""Chain modules. Each owns its messages, handlers, state accessors and queries."""
