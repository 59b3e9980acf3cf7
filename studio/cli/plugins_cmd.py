"""``studio plugins``: where plugins are looked for, what each file loaded, and what failed."""

from __future__ import annotations

import os

TRUST_NOTE = (
    "Plugins are Python code: every *.py file in these folders is imported, with your permissions, by every "
    "studio command (--help too). Only put files you trust there."
)


def register(sub) -> None:
    p = sub.add_parser(
        "plugins",
        help="list the plugin folders, the files they load and their errors",
        description=TRUST_NOTE,
    )
    p.set_defaults(func=run)


def run(args) -> int:
    """Exit 0 when every plugin loaded, 1 when one failed (its error is listed)."""
    from importlib.metadata import entry_points

    from studio.core.registry import ENTRY_POINT_GROUP, TOOLS_ENTRY_POINT_GROUP, default_registry

    reg = default_registry()
    print(TRUST_NOTE)
    print()
    print("plugin folders, searched in this order (the bundled plugins/, $STUDIO_HOME/plugins, $STUDIO_PLUGIN_PATH):")
    for folder in reg.plugin_folders:
        files = [f for f in reg.plugin_files if f.path.parent == folder]
        state = "" if folder.is_dir() else "  (no such folder)"
        print(f"  {folder}{state}")
        if folder.is_dir() and not files:
            print("      (no plugin files)")
        for record in files:
            if record.error:
                print(f"      {record.path.name}: FAILED: {record.error}")
            else:
                gave = []
                if record.families:
                    gave.append("families: " + ", ".join(record.families))
                if record.tools:
                    gave.append(f"tools: {record.tools}")
                print(f"      {record.path.name}: {'; '.join(gave) or 'loaded (no FAMILIES or TOOLS)'}")
    print(f"  $STUDIO_PLUGIN_PATH = {os.environ.get('STUDIO_PLUGIN_PATH', '(not set)')}")
    print()
    print(f"installed packages (entry points '{ENTRY_POINT_GROUP}' and '{TOOLS_ENTRY_POINT_GROUP}'):")
    for group in (ENTRY_POINT_GROUP, TOOLS_ENTRY_POINT_GROUP):
        for ep in sorted(entry_points(group=group), key=lambda e: e.name):
            print(f"  {ep.name:12s} {ep.value}  ({group})")
    if reg.errors:
        print()
        print(f"problems ({len(reg.errors)}):")
        for problem in reg.errors:
            print(f"  {problem}")
        return 1
    return 0


def problems_line(errors: list[str]) -> str:
    """The one stderr line other commands print when a plugin failed to load."""
    first = errors[0] if len(errors[0]) <= 200 else errors[0][:197] + "..."
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"warning: a plugin failed to load: {first}{more}; see 'studio plugins'"
