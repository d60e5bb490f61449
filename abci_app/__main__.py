"""``python -m abci_app …`` is the same as the ``moderntensor`` command."""

from .cli.main import main

if __name__ == "__main__":
    main()
