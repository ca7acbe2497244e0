"""VOC folders read by several processes give what one process gives: the same table, ids, category numbering,
exclusion counts and first error under --strict."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest

from scalematch.dataset.formats import pascal_voc
from scalematch.dataset.loader import load
from scalematch.errors import DatasetError

FILES = 2 * pascal_voc.PIECE + 37  # three pieces, the last one short


def _folder(root: Path, seed: int, bad_from: int = 0) -> tuple[Path, int, dict[str, int]]:
    """A VOC year folder; returns it, the number of good objects and the bad ones by reason (all written here)."""
    rng = random.Random(seed)
    ann = root / "Annotations"
    ann.mkdir(parents=True)
    good, bad = 0, {"malformed_record": 0, "bbox_nonpositive": 0, "unparsable_number": 0}
    for i in range(FILES):
        objects = []
        for _ in range(rng.randint(0, 4)):
            name = rng.choice(["car", "person", "bike", "dog"]) if i > 10 else rng.choice(["zebra", "car"])
            x0, y0 = rng.randint(1, 500), rng.randint(1, 300)
            x1, y1, flag = x0 + rng.randint(0, 90), y0 + rng.randint(0, 90), rng.choice("01")
            kind = rng.random() if i >= bad_from else 1.0
            if kind < 0.05:
                name = ""
                bad["malformed_record"] += 1
            elif kind < 0.1:
                x1 = x0 - 3
                bad["bbox_nonpositive"] += 1
            elif kind < 0.15:
                flag = "yes"
                bad["unparsable_number"] += 1
            else:
                good += 1
            objects.append(
                f"<object><name>{name}</name><difficult>{flag}</difficult><bndbox><xmin>{x0}</xmin>"
                f"<ymin>{y0}</ymin><xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox></object>"
            )
        (ann / f"{i:05d}.xml").write_text(
            f"<annotation><filename>{i}.jpg</filename><size><width>640</width><height>480</height></size>"
            + "".join(objects)
            + "</annotation>"
        )
    return root, good, {k: v for k, v in bad.items() if v}


def test_two_workers_equal_one(tmp_path: Path) -> None:
    root, good, bad = _folder(tmp_path / "voc", seed=7)
    one = load(root, resize="none", workers=1)
    two = load(root, resize="none", workers=2)
    assert len(one.table) == good and one.excluded == bad  # counted independently, as the files were written
    pd.testing.assert_frame_equal(one.table, two.table)
    assert (one.excluded, one.categories, one.images) == (two.excluded, two.categories, two.images)
    assert list(one.categories.values())[:2] in (["zebra", "car"], ["car", "zebra"])  # first seen, first numbered
    assert one.table["ann_id"].is_unique and one.images == FILES


def test_strict_reports_the_first_bad_object_in_reading_order(tmp_path: Path) -> None:
    """Bad objects only from the second piece on: both readings name the same (first) one."""
    root, _, _ = _folder(tmp_path / "voc", seed=3, bad_from=pascal_voc.PIECE + 5)
    messages = []
    for workers in (1, 2):
        with pytest.raises(DatasetError) as caught:
            load(root, resize="none", strict=True, workers=workers)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    first = int(messages[0].split("Annotations/")[1][:5])
    assert first >= pascal_voc.PIECE + 5


def test_a_class_whose_objects_are_all_left_out_is_a_category_whatever_the_reason(tmp_path: Path) -> None:
    """The categories are the names of the objects in order of first appearance, left-out objects included: an
    object excluded while its file is read (a box with xmax < xmin) counts as one excluded after (outside its
    image) does, so the numbering does not depend on why."""
    size = "<size><width>100</width><height>100</height></size>"

    def xml(name: str, box: tuple[int, int, int, int]) -> str:
        corners = "".join(f"<{t}>{v}</{t}>" for t, v in zip(("xmin", "ymin", "xmax", "ymax"), box, strict=True))
        return f"<object><name>{name}</name><bndbox>{corners}</bndbox></object>"

    for reason, box in (("bbox_nonpositive", (50, 5, 10, 20)), ("bbox_outside_image", (500, 500, 520, 530))):
        folder = tmp_path / reason
        folder.mkdir()
        (folder / "a.xml").write_text(f"<annotation>{size}{xml('cat', box)}{xml('dog', (5, 5, 20, 20))}</annotation>")
        (folder / "b.xml").write_text(f"<annotation>{size}{xml('bird', (5, 5, 20, 20))}</annotation>")
        result = load(folder, resize="none")
        assert result.categories == {1: "cat", 2: "dog", 3: "bird"}
        assert result.excluded == {reason: 1}
        assert result.table["category"].astype(str).tolist() == ["dog", "bird"]
