"""``python -m jtask2vec``: the same as the ``jtask2vec`` command."""

from jtask2vec.cli import main

main()
