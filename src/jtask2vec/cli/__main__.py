"""``python -m jtask2vec.cli ...``: the same as the ``jtask2vec`` console script."""

from jtask2vec.cli import main

main()
