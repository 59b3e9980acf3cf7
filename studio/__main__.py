"""``python -m studio`` and the PyInstaller build's entry point."""

import sys

from studio.cli import main  # applies the threading policy (studio.core.threads) before torch is imported

sys.exit(main())
