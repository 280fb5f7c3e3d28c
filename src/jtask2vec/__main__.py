"""`python -m jtask2vec ...` = the `jtask2vec` command."""

from jtask2vec.cli import main

if __name__ == "__main__":
    main()
