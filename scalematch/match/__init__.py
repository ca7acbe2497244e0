"""Matcher: assign objects to feature levels under the rules detectors use, and recommend a design.

Pure functions from (levels, box sizes, rule, targets) to result objects; no I/O, no plotting.
"""
