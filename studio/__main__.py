"""``python -m studio`` and the PyInstaller build's entry point."""

from studio.cli import console_main  # applies the threading policy (studio.core.threads) before torch is imported

console_main()
