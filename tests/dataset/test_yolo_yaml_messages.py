"""data.yaml errors name the entry that is wrong and what YAML made of it (review round 19, F13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scalematch.dataset import load
from scalematch.errors import DatasetError

SHAPE = "key 'kpt_shape': expected [keypoints, dimensions] as two integers (e.g. [17, 3])"


@pytest.mark.parametrize(
    ("yaml", "message"),
    [
        ("names: [a]\nkpt_shape: [-1, 3]\n", f"{SHAPE} from 0 to 4096, got keypoints -1"),
        ("names: [a]\nkpt_shape: [100000000000, 3]\n", f"{SHAPE} from 0 to 4096, got keypoints 100000000000"),
        ("names: [a]\nkpt_shape: [17, 3.0]\n", f"{SHAPE} from 0 to 4096, got dimensions 3.0 (a float)"),
        ("names: [a]\nkpt_shape: [17, true]\n", f"{SHAPE} from 0 to 4096, got dimensions true (a YAML boolean)"),
        ("names: [a]\nkpt_shape: [17]\n", f"{SHAPE}, got a list of 1"),
        ("names: [a]\nkpt_shape: 17\n", f"{SHAPE}, got 17"),
        ("names: {.inf: a}\n", "key 'names' [inf]: expected a class number from 0 to 2^31 - 1, got an infinite "
         "number, not an integer"),
        ("names: {.nan: a}\n", "key 'names' [nan]: expected a class number from 0 to 2^31 - 1, got NaN (not a "
         "number), not an integer"),
        ("names: {1.0: a}\n", "key 'names' [1.0]: expected a class number from 0 to 2^31 - 1, got a float, not an "
         "integer"),
        ("names: {1.5: a}\n", "key 'names' [1.5]: expected a class number from 0 to 2^31 - 1, got a number with a "
         "fraction, not an integer"),
    ],
)  # fmt: skip
def test_data_yaml_errors_name_the_wrong_entry(tmp_path: Path, yaml: str, message: str) -> None:
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (tmp_path / "data.yaml").write_text(yaml)
    with pytest.raises(DatasetError) as caught:
        load(tmp_path, image_size=(64, 48))
    assert str(caught.value) == f"{tmp_path / 'data.yaml'}: {message}"
