"""Everything that turns a description of a network into a :class:`~scalematch.profile.graph.Graph`.

- :mod:`.config`: backbone and neck YAML configs (built in or by path) and layer lists;
- :mod:`.layer_list`: one layer record (a YAML mapping, an inline ``type:key=value`` spec, a seed name) -> a layer;
- :mod:`.onnx`: ONNX models (the ``onnx`` extra);
- :mod:`.torch`: PyTorch modules traced with torch.fx (the ``torch`` extra);
- :mod:`.emit`: the steps the two model importers share (taps, pad folding, pruning, the final graph).

Nothing is imported here, so that reading a config never loads onnx or torch.
"""
