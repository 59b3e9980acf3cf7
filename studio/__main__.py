"""``python -m studio`` and the PyInstaller build's entry point."""

import os
import sys

from studio.cli import main  # applies the threading policy (studio.core.threads) before torch is imported

code = main()
if "RANK" in os.environ:  # a torchrun rank: see exit_process (torch is loaded already)
    from studio.train.distributed import exit_process

    exit_process(code)
sys.exit(code)
