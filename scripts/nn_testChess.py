"""The course's nn_testChess.m: ``python scripts/nn_testChess.py --help`` (same as ``nn-testchess``)."""
import sys

from nntoolbox.demos.chess import main

if __name__ == "__main__":
    sys.exit(main())
