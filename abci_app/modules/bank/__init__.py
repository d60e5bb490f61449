"""Accounts, balances, total supply and the ``transfer`` message."""
