"""``python -m tracer`` runs the CLI."""

from .cli import main

main()
