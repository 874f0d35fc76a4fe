"""BackClinic: `python main.py` opens the app; `python main.py --help` lists the commands.

The window draws each printed document in a child process started from this program (the
"spawn" method), which imports this file again under another name: the app's own imports
stay under the ``__main__`` guard, so that child loads neither Qt nor the services.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    # In the bundled app the child is this program itself: it draws and exits here.
    multiprocessing.freeze_support()
    from backclinic.cli import main

    sys.exit(main())
