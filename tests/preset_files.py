"""A built-in detector preset written to a file with some keys changed, for tests of preset files."""

from __future__ import annotations

from pathlib import Path

import yaml

from scalematch.presets import builtin_presets


def preset_file(tmp_path: Path, name: str, **changes: object) -> Path:
    """Preset ``name`` as a YAML file in ``tmp_path``, with each dotted key of ``changes`` set to its value."""
    data = yaml.safe_load(builtin_presets()[name].read_text())
    for key, value in changes.items():
        node = data
        *parents, last = key.split(".")
        for part in parents:
            node = node[part]
        node[last] = value
    path = tmp_path / f"{name}-custom.yaml"
    path.write_text(yaml.safe_dump(data))
    return path
