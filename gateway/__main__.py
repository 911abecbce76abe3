"""`python -m gateway`: the same as `citysense gateway`."""

import sys

from cli.main import main

sys.exit(main(["gateway", *sys.argv[1:]]))
