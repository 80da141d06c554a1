"""Start a demo from scripts/: a Ctrl-C while the libraries load (numpy, numba, ... take a second or
two) ends with one line, once they have loaded; see nntoolbox.demos.common.demo_main for the rest."""
import importlib
import signal
import sys
from pathlib import Path


def run(module: str) -> int:
    """Import ``module`` and return its ``main()``'s exit status; 130 on Ctrl-C before ``main`` handles it."""
    name = Path(sys.argv[0]).stem
    # Ctrl-C is held while the libraries load: a KeyboardInterrupt raised inside some import is not
    # always let through (about 1 try in 25 under load, the run then went on as if never interrupted)
    received = []
    signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    main = importlib.import_module(module).main
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if received:
            raise KeyboardInterrupt
        status = main()
    except KeyboardInterrupt:
        print(f"\n{name}: interrupted while starting; nothing written", file=sys.stderr)
        return 130
    # the run is over (its results are in place): a late Ctrl-C must not kill the interpreter's
    # clean-up, where Python has put back the default action (exit status -2 instead of ``status``)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return status
