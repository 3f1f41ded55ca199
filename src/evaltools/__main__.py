"""``python -m evaltools``: the ``evaltools`` command, where the console script is not on PATH."""

from evaltools.cli import main

if __name__ == "__main__":
    main()
