"""Operator tools that are neither the chain nor its SDK: the load generator.

Nothing of the consensus core (the package root, ``modules/``, ``state/``) imports this package
(tests/unit/test_tool_imports.py checks it).
"""
