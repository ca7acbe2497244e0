"""scalematch: match a CNN's feature maps to the objects in a detection dataset.

The names a notebook needs, imported lazily (``import scalematch`` stays fast)::

    import scalematch as sm

    boxes = sm.read_annotations("instances_val2017.json")       # or None: the bundled COCO sample
    result = sm.recommend(boxes, "retinanet")                     # a detector's assigner, object by object
    result.to_frame("levels"), result.to_dict()                   # DataFrames, the --json document
    design = sm.recommend(boxes, rule="rf", backbone="resnet50")  # scalematch's size rules
    profile = sm.profile_model("resnet50", "fpn", input_size="1333x800")   # sizes are width first (WxH)
    sm.explain("resnet50", "C3")                                  # one unit of C3 and the units it reads

The package is split one way: ``profile`` (layer graph -> per-feature-map geometry), ``presets`` and ``dataset``
(annotations -> box table) stand alone; ``match`` combines them; ``report`` draws; ``cli`` parses and prints.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from scalematch.choices import Format, Rule, Toolkit, Weights
    from scalematch.dataset import sample_path
    from scalematch.dataset.loader import LoadResult, from_frame, read_annotations
    from scalematch.errors import ScalematchError
    from scalematch.match.api import recommend, sweep
    from scalematch.match.design import Design, RuleSweep
    from scalematch.match.detector import DetectorResult
    from scalematch.presets import builtin_presets, load_preset
    from scalematch.profile.api import catalogue, load_backbone, profile_model
    from scalematch.profile.engine import Profile
    from scalematch.profile.erf_measure import measure_erf
    from scalematch.profile.explain import explain
    from scalematch.report.erf_plot import erf_figure
    from scalematch.report.level_plot import category_figure, load_figure
    from scalematch.report.overlay_plot import overlay_figure
    from scalematch.report.positives_plot import positives_figure
    from scalematch.report.profile_plot import profile_figure
    from scalematch.report.save import save_figure
    from scalematch.report.shape_plot import shape_figure
    from scalematch.report.sweep_plot import sweep_figure

_HOME = {
    "Format": "choices", "Rule": "choices", "Toolkit": "choices", "Weights": "choices",
    "sample_path": "dataset", "LoadResult": "dataset.loader", "from_frame": "dataset.loader",
    "read_annotations": "dataset.loader", "ScalematchError": "errors",
    "recommend": "match.api", "sweep": "match.api", "Design": "match.design", "RuleSweep": "match.design",
    "DetectorResult": "match.detector", "builtin_presets": "presets", "load_preset": "presets",
    "catalogue": "profile.api", "load_backbone": "profile.api", "profile_model": "profile.api",
    "Profile": "profile.engine", "measure_erf": "profile.erf_measure", "explain": "profile.explain",
    "erf_figure": "report.erf_plot", "category_figure": "report.level_plot", "load_figure": "report.level_plot",
    "overlay_figure": "report.overlay_plot", "save_figure": "report.save", "positives_figure": "report.positives_plot",
    "profile_figure": "report.profile_plot", "shape_figure": "report.shape_plot", "sweep_figure": "report.sweep_plot",
}  # fmt: skip

__all__ = [
    "Design",
    "DetectorResult",
    "Format",
    "LoadResult",
    "Profile",
    "Rule",
    "RuleSweep",
    "ScalematchError",
    "Toolkit",
    "Weights",
    "builtin_presets",
    "catalogue",
    "category_figure",
    "erf_figure",
    "explain",
    "from_frame",
    "load_backbone",
    "load_figure",
    "load_preset",
    "measure_erf",
    "overlay_figure",
    "positives_figure",
    "profile_figure",
    "profile_model",
    "read_annotations",
    "recommend",
    "sample_path",
    "save_figure",
    "shape_figure",
    "sweep",
    "sweep_figure",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module only when the name is used."""
    if name in _HOME:
        return getattr(importlib.import_module(f"scalematch.{_HOME[name]}"), name)
    raise AttributeError(f"module 'scalematch' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOME])
