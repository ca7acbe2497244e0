"""Scale-profile core: layer graph -> exact per-feature-map geometry (stride, RF, padding, union, ERF).

Pure math over small frozen dataclasses; no pandas, no plotting, no I/O beyond reading a config.

>>> from scalematch.profile import build, profile
>>> p = profile(build("resnet50"))
>>> p["C5"].x.rf, p["C5"].x.stride
(427, Fraction(32, 1))
"""

from scalematch.profile.api import build, catalogue, parse_input_size
from scalematch.profile.engine import FeatureMap, Profile, profile
from scalematch.profile.graph import INPUT, Graph, Node
from scalematch.profile.importers.config import attach, from_data, from_layers, load
from scalematch.profile.layers import GlobalPool, Merge, Passthrough, TransposedConv, Upsample, Window
from scalematch.profile.summary import AxisSummary

__all__ = [
    "INPUT",
    "AxisSummary",
    "FeatureMap",
    "GlobalPool",
    "Graph",
    "Merge",
    "Node",
    "Passthrough",
    "Profile",
    "TransposedConv",
    "Upsample",
    "Window",
    "attach",
    "build",
    "catalogue",
    "from_data",
    "from_layers",
    "load",
    "parse_input_size",
    "profile",
]
