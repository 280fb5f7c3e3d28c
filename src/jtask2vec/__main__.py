"""``python -m jtask2vec``: the command-line interface."""

from jtask2vec.cli import main

main()
