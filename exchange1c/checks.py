"""Start-up checks: an exchange folder that cannot work shows at `manage.py check`, not at 1C's first call."""

import os
from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Warning, register


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


@register()
def exchange_root(app_configs, **kwargs):
    problems = []
    root = Path(settings.EXCHANGE_ROOT).resolve()
    for name in ("MEDIA_ROOT", "STATIC_ROOT"):
        other = getattr(settings, name, None)
        if other and (_inside(root, Path(other).resolve()) or _inside(Path(other).resolve(), root)):
            problems.append(Error(
                f"EXCHANGE_ROOT ({root}) overlaps {name} ({other}).",
                hint="1C's uploads must never be served by the web server (PROTOCOL.md §3.3): move EXCHANGE_ROOT.",
                id="exchange1c.E001",
            ))
    probe = root
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not os.access(probe, os.W_OK):
        problems.append(Warning(
            f"EXCHANGE_ROOT ({root}) is not writable by this process.",
            hint="1C's uploads will fail with 'failure' until the folder is writable.",
            id="exchange1c.W001",
        ))
    return problems
