"""`python -m percorso` runs the CLI."""

from percorso.app.cli import main

main()
