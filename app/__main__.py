"""`python -m app COMMAND`: the product's command line (app/cli.py)."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
