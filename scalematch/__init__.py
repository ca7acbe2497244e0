"""scalematch: match a CNN's feature maps to the objects in a detection dataset.

The package is split one way: ``profile`` (layer graph -> per-feature-map geometry) and ``dataset``
(annotations -> box table) stand alone; ``match`` combines them; ``report`` draws; ``cli`` parses and prints.
"""

__version__ = "0.1.0"
