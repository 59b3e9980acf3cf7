"""PyInstaller runtime hook (studio.spec): the threading policy before any bundled code imports torch.

A frozen app runs its runtime hooks before ``studio/__main__.py``; applying the policy here keeps it
ahead of torch even if a hook of a bundled library imported torch first. ``studio.cli`` applies it
again (idempotent) for every other entry point.
"""

from studio.core.threads import apply_thread_policy

apply_thread_policy()
