"""`python -m skillcert`: the same command line as the `skillcert` script."""

from .cli import main

main()
