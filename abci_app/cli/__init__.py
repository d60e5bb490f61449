"""The ``moderntensor`` command line."""
