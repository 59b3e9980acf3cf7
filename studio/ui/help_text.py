"""The words of Help ▸ Getting models: what is installed, and how to get more (issue 17 item 8: it said
"No models installed yet" while five were listed)."""

from __future__ import annotations

from studio.core.paths import user_models_dir


def how_to_get_models() -> str:
    return (
        "• Train one on a folder of your images: File ▸ Train on my folder… (Ctrl+T),\n"
        "  or  studio train csgan --data FOLDER_OF_IMAGES\n"
        f"• Copy NAME.safetensors + NAME.json into {user_models_dir()}\n"
        "• Open a checkpoint: File ▸ Open checkpoint… (Ctrl+O), or drop it on this window."
    )


def getting_models_text(installed: int) -> str:
    """Help ▸ Getting models for a studio with ``installed`` models in its list."""
    if installed <= 0:
        return "No models installed yet.\n\n" + how_to_get_models()
    plural = "s are" if installed != 1 else " is"
    return (
        f"{installed} model{plural} installed: the Models list on the left; double-click one to open it.\n\n"
        "To get more:\n" + how_to_get_models()
    )
