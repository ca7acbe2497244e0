"""The images a preset's toolkit leaves out of its training set before any transform: their objects never reach
the assigner, so the simulation leaves them out too, and the result counts them (:class:`LeftOutImages`).

- mmdetection 3.3 (the ATSS preset): the training dataset of its COCO config (``_base_/datasets/coco_detection.py``)
  has ``filter_cfg=dict(filter_empty_gt=True, min_size=32)``, and mmengine's ``BaseDataset.full_init`` runs the
  dataset's ``filter_data`` after ``load_data_list``: an image whose shorter side (the file's ``width`` /
  ``height``) is under 32 pixels is dropped (``CocoDataset`` and ``XMLDataset`` alike); and ``CocoDataset`` drops an
  image for which the file holds no record of one of its classes (its ``cat_img_map``: the records as the file
  gives them, before pycocotools resolves a repeated annotation id to its last record). Without repeated ids,
  every image with an object has such a record.
- torchvision 0.29 (its detection reference, ``references/detection/coco_utils.py``, ``get_coco`` on the train
  set): ``_coco_remove_images_without_annotations`` drops an image whose records (``getAnnIds`` with
  ``iscrowd=None``, then ``loadAnns``: crowds included, each place of a repeated id read as the id's last record)
  all have a ``bbox`` width or height of 1 or less. Its keypoint branch (an image of a file whose records carry
  ``keypoints`` needs 10 visible ones) concerns keypoint files, which train keypoint models: not simulated. It
  reads COCO files only.
- yolov5 and ultralytics keep an image without labels as a background image: no image is left out here (the
  images they refuse as corrupt are the simulation's ``dropped_by_pipeline`` objects).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from scalematch._text import counted
from scalematch.dataset.loader import LoadResult
from scalematch.presets.preset import MMDetInput, Preset, TorchvisionInput

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

MMDET_MIN_SIZE = 32
"""``filter_cfg``'s ``min_size`` in mmdetection's COCO and VOC training configs: the shorter image side kept."""


@dataclass(frozen=True)
class LeftOutImages:
    """The images holding objects that the preset's toolkit leaves out of its training set, by why: ``small``
    (mmdetection: shorter side under :data:`MMDET_MIN_SIZE`), ``no_class`` (mmdetection's ``CocoDataset``: no
    record of one of its classes), ``empty_boxes`` (torchvision's reference: every record's box 1 pixel wide or
    high or less); ``objects``: the objects of those images the simulation would otherwise have matched."""

    images: int
    objects: int
    small: int = 0
    no_class: int = 0
    empty_boxes: int = 0

    def note(self, preset: Preset) -> str:
        """One sentence for the ``note:`` line, the JSON and the report."""
        why = []
        if self.small:
            why.append(f"{counted(self.small, 'image')} with a side under {MMDET_MIN_SIZE} px (filter_cfg min_size)")
        if self.no_class:
            why.append(
                f"{counted(self.no_class, 'image')} without a record of a listed category in the file "
                "(filter_empty_gt, on the records before a repeated id is resolved)"
            )
        if self.empty_boxes:
            why.append(
                f"{counted(self.empty_boxes, 'image')} whose records all have a box side of 1 px or less "
                "(_coco_remove_images_without_annotations)"
            )
        trainer = (
            f"{preset.toolkit}'s training dataset" if isinstance(preset.input, MMDetInput)
            else f"{preset.toolkit}'s detection reference"
        )  # fmt: skip
        return (
            f"{counted(self.objects, 'object')} in {counted(self.images, 'image')} not simulated: {trainer} leaves "
            f"out {'; '.join(why)}"
        )

    def to_dict(self, preset: Preset) -> dict[str, object]:
        """The JSON's ``images_left_out``."""
        reasons = {"small": self.small, "no_class": self.no_class, "empty_boxes": self.empty_boxes}
        return {
            "images": self.images, "objects": self.objects,
            "by_reason": {k: v for k, v in reasons.items() if v}, "note": self.note(preset),
        }  # fmt: skip


def training_images(data: LoadResult, preset: Preset) -> tuple[LoadResult, LeftOutImages | None]:
    """``data`` without the images ``preset``'s toolkit leaves out of its training set (see the module), and what
    they held (None when it leaves out no image with objects). Their rows leave the table; their places of
    repeated annotation ids (``data.repeats``) are no longer ``listed`` (the records themselves still count as the
    records of their ids)."""
    import numpy as np

    if not isinstance(preset.input, MMDetInput | TorchvisionInput) or not len(data.table):
        return data, None
    from scalematch.match.detector import toolkit_rows, toolkit_table

    ids = data.table["image_id"].to_numpy(np.int64)
    repeats = data.repeats
    listed = repeats["listed"].to_numpy(bool) if repeats is not None else np.zeros(0, dtype=bool)
    small = no_class = empty = np.zeros(0, dtype=np.int64)
    if isinstance(preset.input, MMDetInput):
        small = _small_images(data, listed)
        if data.format == "coco" and repeats is not None:
            no_class = _without_class(data, ids, listed)
            no_class = np.setdiff1d(no_class, small)
    elif data.format == "coco":
        empty = _only_empty_boxes(toolkit_table(data, preset))
    dropped = np.union1d(np.union1d(small, no_class), empty)
    if not len(dropped):
        return data, None
    out = np.isin(ids, dropped)
    left_repeats = kept_repeats = repeats
    if repeats is not None:
        at = np.isin(repeats["image_id"].to_numpy(np.int64), dropped) & listed
        kept_repeats = repeats.assign(listed=listed & ~at)
        left_repeats = repeats.assign(listed=at)
    kept = replace(data, table=data.table.take(np.flatnonzero(~out)), repeats=kept_repeats)
    left = replace(data, table=data.table.take(np.flatnonzero(out)), repeats=left_repeats)
    left_rows = toolkit_rows(left, preset)[0]
    if not len(left_rows):
        return kept, None
    held = np.unique(left_rows["image_id"].to_numpy(np.int64))
    found = LeftOutImages(
        len(held), len(left_rows), int(np.isin(held, small).sum()), int(np.isin(held, no_class).sum()),
        int(np.isin(held, empty).sum()),
    )  # fmt: skip
    return kept, found


def _small_images(data: LoadResult, listed: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """The ids of the images (of the table and of the places of repeated ids) whose shorter side is under
    :data:`MMDET_MIN_SIZE` (``filter_data``: ``min(width, height) >= min_size`` keeps it; no size, no test)."""
    import numpy as np

    parts = [data.table]
    if data.repeats is not None:
        parts.append(data.repeats.take(np.flatnonzero(listed)))
    ids = np.concatenate([p["image_id"].to_numpy(np.int64) for p in parts])
    w = np.concatenate([p["image_w"].to_numpy(np.float64) for p in parts])
    h = np.concatenate([p["image_h"].to_numpy(np.float64) for p in parts])
    small: npt.NDArray[np.int64] = np.unique(ids[np.minimum(w, h) < MMDET_MIN_SIZE])
    return small


def _without_class(
    data: LoadResult, ids: npt.NDArray[np.int64], listed: npt.NDArray[np.bool_]
) -> npt.NDArray[np.int64]:
    """The ids of the images that only places of repeated ids fill, none of whose records (as the file gives
    them) has a category the file lists: mmdetection's ``cat_img_map`` has no entry of its classes for them. (A
    record of the table has a listed category: its image is never one of them.)"""
    import numpy as np

    assert data.repeats is not None
    places = data.repeats.take(np.flatnonzero(listed))
    image = places["image_id"].to_numpy(np.int64)
    known = np.isin(places["category_id"].to_numpy(np.int64), np.fromiter(data.categories, np.int64))
    alone = ~np.isin(image, ids)
    found: npt.NDArray[np.int64] = np.setdiff1d(image[alone], image[alone & known])
    return found


def _only_empty_boxes(table: pd.DataFrame) -> npt.NDArray[np.int64]:
    """The ids of the images of ``table`` (the toolkit's records, crowds included) whose every record has a
    ``bbox`` width or height of 1 or less."""
    import numpy as np

    image = table["image_id"].to_numpy(np.int64)
    w, h = table["w"].to_numpy(np.float64), table["h"].to_numpy(np.float64)
    empty = (w <= 1) | (h <= 1)  # (a NaN side is not "<= 1": the reference keeps such a record's image)
    if not empty.any():
        return np.zeros(0, np.int64)
    candidates = np.unique(image[empty])  # few: the others' records need not be sorted
    found: npt.NDArray[np.int64] = np.setdiff1d(candidates, image[np.isin(image, candidates) & ~empty])
    return found
