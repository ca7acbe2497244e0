"""The public functions (``scalematch.<name>``) check their arguments' types at the door: a wrong type is one
:class:`OptionError` naming the parameter, never a TypeError or AttributeError from inside."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest

import scalematch
from scalematch.errors import OptionError, ScalematchError

sm: Any = scalematch  # the calls below pass wrong types on purpose


@pytest.fixture(scope="module")
def boxes() -> Any:
    return sm.read_annotations(None)


def _column(boxes: Any, name: str, value: object) -> Any:
    table = boxes.to_frame().copy()
    table[name] = value
    return table


def _two_sizes() -> Any:
    import pandas as pd

    one = {"image_id": 1, "x": 0.0, "y": 0.0, "w": 5.0, "h": 5.0, "image_h": 480}
    return pd.DataFrame([{**one, "image_w": 640}, {**one, "image_w": 800}])


class _Elsewhere:
    """A path object of another library: an ``os.PathLike`` that is no ``pathlib.Path``, with a repr of its own
    (shown where its path should be, it would give itself away)."""

    def __init__(self, path: str | bytes) -> None:
        self.path = path

    def __fspath__(self) -> str:
        return cast(str, self.path)  # bytes too, in the test of a path object whose path is bytes

    def __repr__(self) -> str:
        return f"<path {self.path!r}>"


def _write_report(out: Any, files: dict[str, bytes]) -> Any:
    from scalematch.report.bundle import write_report

    return write_report(out, files)


def _module() -> Any:
    """A PyTorch module (skipped without torch): measured as it is, so that a neck is refused for it."""
    torch = pytest.importorskip("torch")
    return torch.nn.Identity()


def _dataset() -> Any:
    import scalematch.dataset

    return scalematch.dataset


CASES: list[tuple[str, Callable[[Any], object], str]] = [
    ("detector as a number", lambda b: sm.recommend(b, 42),
     "detector: expected a preset name, a preset YAML path or a Preset, got int 42"),
    ("coverage as text", lambda b: sm.recommend(b, rule="rf", coverage="0.9"),
     "coverage: expected a number, got str '0.9'"),
    ("coverage as a bool", lambda b: sm.recommend(b, coverage=True), "coverage: expected a number, got bool True"),
    ("coverage subnormal", lambda b: sm.recommend(b, rule="rf", coverage=5e-324),
     "coverage: expected a share from 0.001 to 1 (0.1% to 100%), got 5e-324"),
    ("coverage subnormal, detector", lambda b: sm.recommend(b, "retinanet", coverage=5e-324),
     "coverage: expected a share from 0.001 to 1 (0.1% to 100%), got 5e-324"),
    ("min_positives as a float", lambda b: sm.recommend(b, min_positives=1.5),
     "min_positives: expected an integer, got float 1.5"),
    ("levels as a number", lambda b: sm.sweep(b, levels=3),
     "levels: expected level names ('P3,P4' or a list), got int 3"),
    ("resize None", lambda b: sm.read_annotations(None, resize=None),
     "resize: expected a policy such as 'shortest-edge:800,1333' (text), got NoneType None"),
    ("resize as a number", lambda b: sm.read_annotations(None, resize=800),
     "resize: expected a policy such as 'shortest-edge:800,1333' (text), got int 800"),
    ("profile_model(None)", lambda b: sm.profile_model(None),
     "backbone: expected a backbone name or path, an nn.Module or a Graph, got NoneType None"),
    ("neck as a number", lambda b: sm.load_backbone("resnet50", 5),
     "neck: expected a neck name or path (str), got int 5"),
    ("widths as text, rule", lambda b: sm.recommend(_column(b, "w", "50"), rule="rf"),
     "annotations: the DataFrame's column 'w' holds {dtype} values, such as '50'; expected numbers"),
    ("widths as text, detector", lambda b: sm.recommend(_column(b, "w", "50"), "retinanet"),
     "annotations: the DataFrame's column 'w' holds {dtype} values, such as '50'; expected numbers"),
    ("image_size of one side", lambda b: sm.read_annotations(None, image_size=(640,)),
     "image_size: expected 'WIDTHxHEIGHT' or (width, height) with positive integers up to 16777216, got tuple (640,)"),
    ("image_size fractional", lambda b: sm.read_annotations(None, image_size=(640.5, 480)),
     "image_size: expected 'WIDTHxHEIGHT' or (width, height) with positive integers up to 16777216, got tuple "
     "(640.5, 480)"),
    ("a DataFrame as the path", lambda b: sm.read_annotations(b.to_frame()),
     "annotations: expected a path (str or pathlib.Path), a glob pattern or a list of them, got a DataFrame "
     "(from_frame(table) makes a LoadResult of a box table)"),
    ("progress as text, a table given", lambda b: sm.recommend(b, progress="yes"),
     "progress: expected a function progress(done, total), got str 'yes'"),
    ("an empty list of backbones", lambda b: sm.sweep(b, rule="rf", backbone=[]),
     "backbone: expected at least one name, got an empty list"),
    ("format not one of them", lambda b: sm.read_annotations(None, format="kitti"),
     "format: expected one of coco, voc, yolo, got 'kitti'"),
    ("a category without a value", lambda b: sm.from_frame(_column(b, "category", None)),
     "annotations: the DataFrame's column 'category' has no value in row 0; expected a name per row (without the "
     "column, every object is of one category 'object')"),
    ("one image of two sizes", lambda b: sm.from_frame(_two_sizes()),
     "annotations: image_id 1 has two sizes, 640x480 (row 0) and 800x480 (row 1); an image has one size"),
    ("from_frame(None)", lambda b: sm.from_frame(None),
     "table: expected a pandas DataFrame with the box-table columns, got NoneType None"),
    ("image widths as text", lambda b: sm.from_frame(_column(b, "image_w", "640")),
     "annotations: the DataFrame's column 'image_w' holds {dtype} values, such as '640'; expected numbers"),
    ("a list of numbers as paths", lambda b: sm.recommend([1, 2, 3], rule="rf"),
     "annotations: expected a path (str or pathlib.Path), a glob pattern or a list of them, a LoadResult or a pandas "
     "DataFrame, got int 1 in the list"),
    ("recommend of a number", lambda b: sm.recommend(5, rule="rf"),
     "annotations: expected a path (str or pathlib.Path), a glob pattern or a list of them, a LoadResult or a pandas "
     "DataFrame, got int 5"),
    ("a path object whose path is bytes", lambda b: _dataset().load(_Elsewhere(b"/data/a.json")),
     "path: expected a path (str or pathlib.Path), got _Elsewhere <path b'/data/a.json'>"),
    ("a backbone list holding a number", lambda b: sm.sweep(b, rule="rf", backbone=["resnet18", 5]),
     "backbone: expected a backbone name or path, or a list of them, got int 5"),
    ("a set of backbones", lambda b: sm.sweep(b, rule="rf", backbone={"resnet18"}),
     "backbone: expected a backbone name or path, or a list of them, got set {{'resnet18'}}"),
    ("a path as bytes", lambda b: sm.read_annotations(b"/data/a.json"),
     "annotations: expected a path (str or pathlib.Path), a glob pattern or a list of them, got bytes "
     "b'/data/a.json'"),
    ("summarize_files(None)", lambda b: __import__("scalematch.dataset.shards").dataset.shards.summarize_files(None),
     "annotations: expected a path (str or pathlib.Path), a glob pattern or a list of them, got NoneType None"),
    ("overlay of a table with a NaN size", lambda b: sm.overlay_figure(_column(b, "w_in", float("nan")),
                                                                     sm.recommend(b, rule="rf").recommendation),
     "table: row 0 has w_in nan and h_in {h_in:g}; expected positive sizes in input pixels (the box table the "
     "recommendation was made from)"),
    ("overlay of another table", lambda b: sm.overlay_figure(b.to_frame().iloc[1:],
                                                            sm.recommend(b, rule="rf").recommendation),
     "table: {fewer} usable rows, but the recommendation was made from {objects} objects; give the box table it "
     "was made from"),
    ("summarize a DataFrame", lambda b: __import__("scalematch.dataset").dataset.summarize(b.to_frame()),
     "result: expected a LoadResult (read_annotations or from_frame makes one from a DataFrame), got an object of "
     "type DataFrame"),
    ("evaluate, target True", lambda b: _evaluate(b, target=True), "target: expected a number, got bool True"),
    ("evaluate, target as text", lambda b: _evaluate(b, target="0.9"), "target: expected a number, got str '0.9'"),
    ("evaluate, min_positives 1.5", lambda b: _evaluate(b, min_positives=1.5),
     "min_positives: expected an integer, got float 1.5"),
    ("evaluate, min_positives True", lambda b: _evaluate(b, min_positives=True),
     "min_positives: expected an integer, got bool True"),
    ("evaluate, min_iou as text", lambda b: _evaluate(b, min_iou="0.1"), "min_iou: expected a number, got str '0.1'"),
    ("evaluate, workers 0", lambda b: _evaluate(b, workers=0), "workers: expected an integer from 1 to 1024, got 0"),
    ("evaluate, workers -1", lambda b: _evaluate(b, workers=-1),
     "workers: expected an integer from 1 to 1024, got -1"),
    ("evaluate, strict as text", lambda b: _evaluate(b, strict="yes"), "strict: expected True or False, got str 'yes'"),
    ("evaluate, a preset name", lambda b: _evaluate(b, preset="retinanet"),
     "preset: expected a Preset (scalematch.load_preset('retinanet')), got str 'retinanet'"),
    ("read_annotations, strict as text", lambda b: sm.read_annotations(None, strict="yes"),
     "strict: expected True or False, got str 'yes'"),
    ("read_annotations, format as a number", lambda b: sm.read_annotations(None, format=5),
     "format: expected coco, voc or yolo, got int 5"),
    ("read_annotations, strict 0", lambda b: sm.read_annotations(None, strict=0),
     "strict: expected True or False, got int 0"),
    ("measure_erf, a neck for a torch module", lambda b: sm.measure_erf(_module(), "32x32", neck="fpn"),
     "neck: applies to a backbone config, a built-in backbone or an ONNX model, not to a PyTorch module (measured "
     "as it is); got str 'fpn'"),
    ("measure_erf, a neck for a Graph", lambda b: sm.measure_erf(sm.load_backbone("resnet18"), neck="fpn"),
     "neck: applies to a backbone config, a built-in backbone or an ONNX model, not to a Graph (measured as it "
     "is); got str 'fpn'"),
    ("read_annotations, progress not callable", lambda b: sm.read_annotations(None, progress=1),
     "progress: expected a function progress(done, total), got int 1"),
    ("explain, unit as text", lambda b: sm.explain("resnet18", "C3", "3"), "unit: expected an integer, got str '3'"),
    ("explain, unit as a float", lambda b: sm.explain("resnet18", "C3", 2.0),
     "unit: expected an integer, got float 2.0"),
    ("explain, unit -1", lambda b: sm.explain("resnet18", "C3", -1),
     "unit: expected an integer from 0 to 16,777,216, got -1"),
    ("explain, unit beyond 2**24", lambda b: sm.explain("resnet18", "C3", (0, 10**8)),
     "unit: expected an integer from 0 to 16,777,216, got 100000000"),
    ("explain, three units", lambda b: sm.explain("resnet18", "C3", (1, 2, 3)),
     "unit: expected one index or a pair (i_y, i_x), got tuple (1, 2, 3)"),
    ("explain, node as a number", lambda b: sm.explain("resnet18", 3), "node: expected a map name (str), got int 3"),
    ("explain(None)", lambda b: sm.explain(None),
     "network: expected a backbone name, a YAML config path, a list of layer specs (str) or a Profile, got NoneType "
     "None"),
    ("explain, a number among the specs", lambda b: sm.explain(["conv_3x3_stride_1", 3]),
     "network: expected a backbone name, a YAML config path, a list of layer specs (str) or a Profile, got int 3"),
    ("explain, a neck for a Profile", lambda b: sm.explain(sm.profile_model("resnet18"), neck="fpn"),
     "neck: a Profile is explained as it is; got str 'fpn'"),
    ("explain, a neck as a number", lambda b: sm.explain("resnet18", neck=5),
     "neck: expected a neck name or YAML path (str or pathlib.Path), got int 5"),
    ("load_preset(None)", lambda b: sm.load_preset(None),
     "name: expected a preset name or a preset YAML path (str or pathlib.Path), got NoneType None"),
    ("load_preset(5)", lambda b: sm.load_preset(5),
     "name: expected a preset name or a preset YAML path (str or pathlib.Path), got int 5"),
    ("override input=None", lambda b: _override(input=None),
     "preset retinanet: input: expected a TorchvisionInput (or its fields, as 'input.min_size'), got NoneType None"),
    ("override of a name", lambda b: __import__("scalematch.presets").presets.override("retinanet", name="x"),
     "preset: expected a Preset (scalematch.load_preset('retinanet')), got str 'retinanet'"),
    ("positives_figure(None)", lambda b: sm.positives_figure(None),
     "sim: expected a detector result's simulation (result.simulation), got NoneType None"),
    ("positives_figure of a design", lambda b: sm.positives_figure(sm.recommend(b, rule="rf").recommendation),
     "sim: expected a detector result's simulation (result.simulation), got Recommendation "
     "<Recommendation rule rf: use P2, P3, ..."),
    ("load_figure(None)", lambda b: sm.load_figure(None),
     "result: expected a rule design's level match (design.recommendation.full), got NoneType None"),
    ("category_figure(None)", lambda b: sm.category_figure(None),
     "result: expected a rule design's level match (design.recommendation.full), got NoneType None"),
    ("profile_figure(None)", lambda b: sm.profile_figure(None),
     "profile: expected a Profile (scalematch.profile_model('resnet50')), got NoneType None"),
    ("erf_figure(None)", lambda b: sm.erf_figure(None),
     "result: expected a measured ERF (scalematch.measure_erf('resnet18')), got NoneType None"),
    ("save_figure(None)", lambda b: sm.save_figure(None, "f.png"),
     "fig: expected a matplotlib Figure (from a scalematch *_figure function), got NoneType None"),
    ("sweep_figure([])", lambda b: sm.sweep_figure([]),
     "designs: expected a non-empty list of Designs (list(swept.designs)), got list []"),
    ("sweep_figure(None)", lambda b: sm.sweep_figure(None),
     "designs: expected a non-empty list of Designs (list(swept.designs)), got NoneType None"),
    ("overlay split bogus", lambda b: sm.overlay_figure(b.table, sm.recommend(b, rule="rf").recommendation, "bogus"),
     "split: expected one of level, coco, category, none, got str 'bogus'"),
    ("overlay top 0", lambda b: sm.overlay_figure(b.table, sm.recommend(b, rule="rf").recommendation, top=0),
     "top: expected an integer from 1, got 0"),
    ("overlay of a design", lambda b: sm.overlay_figure(b.table, sm.recommend(b, rule="rf")),
     "rec: expected a rule design's recommendation (design.recommendation), got Design "
     "<Design resnet50 + fpn at shortest-ed..."),
    ("shape_figure of no table", lambda b: sm.shape_figure(None, sm.recommend(b, rule="rf").recommendation),
     "table: expected the box table of the recommendation (design.data.table), got NoneType None"),
]  # fmt: skip


def _evaluate(boxes: Any, **options: Any) -> object:
    from scalematch.match.detector import evaluate

    preset = options.pop("preset", None) or sm.load_preset("retinanet")
    return evaluate(boxes, preset, **options)


def _override(**changes: Any) -> object:
    from scalematch.presets import override

    return override(sm.load_preset("retinanet"), **changes)


@pytest.mark.parametrize(("case", "call", "message"), CASES, ids=[c[0] for c in CASES])
def test_wrong_types_are_one_option_error(boxes: Any, case: str, call: Callable[[Any], object], message: str) -> None:
    text_dtype = str(_column(boxes, "w", "50")["w"].dtype)  # 'object' or pandas 3's 'str'
    table = boxes.to_frame()
    objects = int((table["iscrowd"] == 0).sum())
    with pytest.raises(OptionError) as caught:
        call(boxes)
    assert str(caught.value) == message.format(
        dtype=text_dtype, h_in=table["h_in"].iloc[0], fewer=int((table["iscrowd"].iloc[1:] == 0).sum()), objects=objects
    )


def test_right_types_of_other_kinds_still_work(boxes: Any) -> None:
    """numpy numbers are numbers (numpy's bools are bools), a Path is a path, a list is a list of names, a format
    is named in any case, as a rule is."""
    from pathlib import Path

    import numpy as np

    assert len(sm.read_annotations(None, strict=np.False_, format="COCO").table) == len(boxes.table)
    assert len(_dataset().load(sm.sample_path(), format="Coco", strict=np.True_).table) == len(boxes.table)

    result = sm.recommend(boxes, Path(sm.builtin_presets()["retinanet"]), coverage=np.float64(0.9),
                          min_positives=np.int64(2), levels=["P3", "P4", "P5", "P6", "P7"],
                          workers=np.int64(2))  # fmt: skip
    assert (result.preset.name, result.target) == ("retinanet", 0.9)
    assert len(sm.read_annotations(workers=np.int64(2)).table) == len(sm.read_annotations(workers=1).table)
    high = _override(**{"assigner.high": np.float64(0.6), "assigner.low": np.float32(0.5)})
    assert (high.assigner.high, high.assigner.low) == (0.6, 0.5)  # type: ignore[attr-defined]
    assert type(high.assigner.high) is float  # type: ignore[attr-defined]


def test_a_document_already_read_or_an_open_file_is_named_as_such() -> None:
    """A dict from json.load and an open file are iterable (over keys, over lines): they are named for what they
    are, not read as paths built from their content; load and summarize_file (one path) name their parameter."""
    import json

    from scalematch.dataset import load, summarize_file

    with open(sm.sample_path(), encoding="utf-8") as file:
        document = json.load(file)
        file.seek(0)
        opened = f"an open file; give its path ({str(sm.sample_path())!r})"
        read = "a dict (a document already read, as json.load gives it); give the file's path"
        many = "annotations: expected a path (str or pathlib.Path), a glob pattern or a list of them, got "
        one = "path: expected a path (str or pathlib.Path), got "
        tables = "annotations: expected a path (str or pathlib.Path), a glob pattern or a list of them, a LoadResult "
        calls = [(sm.read_annotations, many), (sm.recommend, tables + "or a pandas DataFrame, got "),
                 (sm.sweep, tables + "or a pandas DataFrame, got "), (load, one), (summarize_file, one)]  # fmt: skip
        for call, start in calls:
            for given, what in ((document, read), (file, opened)):
                with pytest.raises(OptionError) as caught:
                    call(given)
                assert str(caught.value) == start + what
        assert file.tell() == 0  # not read


def test_a_type_is_named_without_an_article_to_get_wrong_and_an_array_by_its_type() -> None:
    """Review round 31: the article came from the first letter ('an Unicorn', 'a Hour', 'a ndarray'), an array
    with a one-line repr was quoted ('got ndarray array([0.9])'), and a state_dict was taken for a JSON document
    ('got a OrderedDict (a document already read, as json.load gives it)')."""
    import types
    from collections import OrderedDict

    import numpy as np

    class Lines:
        def __repr__(self) -> str:
            return "line 1\nline 2"

    for name in ("Unicorn", "Hour", "XMLDoc", "UserThing"):
        value = cast(Lines, types.new_class(name, (Lines,))())
        with pytest.raises(OptionError) as caught:
            sm.recommend(coverage=value)
        assert str(caught.value) == f"coverage: expected a number, got an object of type {name}"
    arrays: list[tuple[Callable[[], object], str]] = [
        (lambda: sm.recommend(coverage=np.array([0.9])), "coverage: expected a number"),
        (lambda: sm.recommend(workers=np.array([1])), "workers: expected an integer from 1 to 1024"),
        (lambda: sm.recommend(coverage=np.zeros((2, 2))), "coverage: expected a number"),
    ]
    for call, start in arrays:
        with pytest.raises(OptionError) as caught:
            call()
        assert str(caught.value) == f"{start}, got an object of type ndarray"
    weights = OrderedDict(w=np.zeros(2))
    state = "got a mapping of type OrderedDict holding ndarray values, as a state_dict does (weights, no layer graph)"
    mappings: list[tuple[Callable[[], object], str]] = [
        (lambda: sm.profile_model(weights), "backbone: expected a backbone name or path"),
        (lambda: sm.measure_erf(weights), "model: expected a model name or path"),
    ]
    for call, start in mappings:
        with pytest.raises(OptionError) as caught:
            call()
        assert str(caught.value) == f"{start}, an nn.Module or a Graph, {state}"
    with pytest.raises(OptionError) as caught:
        sm.profile_model(OrderedDict(layers=[]))
    assert str(caught.value).endswith(
        "got a mapping of type OrderedDict (a document already read, as json.load gives it); give the file's path"
    )


def test_a_dataset_is_named_by_its_path_given_as_any_path_object() -> None:
    """The readers take a str, a pathlib.Path and any other os.PathLike alike, name the dataset by its path
    (os.fspath, the text the command line shows for that file) and give what the str gives (review round 17,
    F8 c)."""
    from pathlib import Path

    from scalematch.dataset import detect_format, load, read_shards, summarize_file, summarize_files

    text = str(sm.sample_path())
    given = _Elsewhere(text)
    assert repr(given) not in text  # the checks below would tell the path object's repr from its path
    assert load(given).source == text and repr(load(given)) == repr(load(text))
    assert summarize_file(given) == summarize_file(text) and summarize_file(given)["source"] == text
    assert summarize_files(given) == summarize_files([text]) == summarize_files(p for p in [Path(text)])
    assert read_shards(given).source == sm.read_annotations((given,)).source == text
    assert detect_format(given) == detect_format(text) == "coco"
    assert sm.read_annotations({given}).table.equals(load(text).table)


def test_networks_and_presets_are_taken_as_any_path_object(tmp_path: Any) -> None:
    """A backbone, a neck and a preset file are taken as a path object wherever their path is taken as text, by
    recommend, sweep, load_preset, override, load_backbone and profile_model, with the same result; so is the path
    of a figure and of a report folder (review round 17, F8 b)."""
    import os
    from pathlib import Path

    from scalematch.presets import override

    text = str(sm.sample_path())
    from scalematch.profile.importers.config import config_dir

    backbone = str(config_dir() / "backbones" / "resnet18.yaml")
    neck = str(config_dir() / "necks" / "fpn-retinanet.yaml")
    assert os.path.isfile(backbone) and os.path.isfile(neck)
    preset = str(sm.builtin_presets()["fcos"])
    by_text = sm.recommend(text, preset, backbone=backbone, neck=neck)
    by_object = sm.recommend(text, _Elsewhere(preset), backbone=_Elsewhere(backbone), neck=Path(neck))
    assert by_object.to_dict() == by_text.to_dict()
    assert by_object.preset.backbone == backbone and by_object.preset.neck == neck
    design = sm.recommend(text, rule="rf", backbone=Path(backbone), neck=_Elsewhere(neck))
    assert design.to_dict() == sm.recommend(text, rule="rf", backbone=backbone, neck=neck).to_dict()
    rules = sm.sweep(text, rule="rf", backbone=[_Elsewhere(backbone), "resnet50"], neck=_Elsewhere(neck))
    assert [d.to_dict() for d in rules.designs] == [
        d.to_dict() for d in sm.sweep(text, rule="rf", backbone=[backbone, "resnet50"], neck=neck).designs
    ]
    assert sm.load_preset(_Elsewhere(preset)) == sm.load_preset(preset)
    assert sm.load_backbone(_Elsewhere(backbone), _Elsewhere(neck)) == sm.load_backbone(backbone, neck)
    assert sm.profile_model(_Elsewhere(backbone), Path(neck)) == sm.profile_model(backbone, neck)
    retinanet = sm.load_preset("retinanet")
    assert override(retinanet, backbone=Path(backbone), neck=_Elsewhere(neck)) == override(
        retinanet, backbone=backbone, neck=neck
    )
    with pytest.raises(sm.ScalematchError) as caught:
        sm.load_preset(_Elsewhere("nowhere/preset.yaml"))
    assert str(caught.value) == "nowhere/preset.yaml: no such preset file"

    from matplotlib.figure import Figure

    figure = tmp_path / "f.png"
    sm.save_figure(Figure(), _Elsewhere(str(figure)))
    assert figure.read_bytes().startswith(b"\x89PNG")
    with pytest.raises(OptionError) as caught:
        sm.save_figure(Figure(), _Elsewhere(str(tmp_path / "f.txt")))
    assert str(caught.value) == f"path {tmp_path / 'f.txt'}: expected a file ending in .png, .svg, .pdf, got '.txt'"
    for out in (str(tmp_path / "a"), _Elsewhere(str(tmp_path / "b"))):  # the folder of a report, as bundle writes it
        assert _write_report(out, {"report.html": b"<html>"}) == Path(out) / "report.html"
        assert (Path(out) / "report.html").read_bytes() == b"<html>"


def test_recommend_and_sweep_take_the_annotations_read_annotations_takes() -> None:
    """A path object and a generator of paths, which read_annotations takes, are taken by recommend and sweep too
    (docs/reference/dataset.md, Many files); a generator is read once, so that every resize policy of a sweep
    reads the same boxes (review round 17, F8 a)."""
    text = str(sm.sample_path())
    objects = len(sm.read_annotations(p for p in [_Elsewhere(text)]).table)
    assert objects == len(sm.read_annotations(text).table) == 839
    for inputs in (_Elsewhere(text), (p for p in [text]), {_Elsewhere(text)}):
        assert sm.recommend(inputs, rule="rf").to_dict() == sm.recommend(text, rule="rf").to_dict()
    detector = sm.recommend((p for p in [_Elsewhere(text)]), "retinanet")
    assert detector.to_dict() == sm.recommend(text, "retinanet").to_dict()
    policies = ["shortest-edge:800,1333", "none"]
    swept = sm.sweep((p for p in [text]), rule="rf", resize=policies)
    assert [len(d.data.table) for d in swept.designs] == [objects, objects]
    assert sorted(d.to_dict()["resize"] for d in swept.designs) == sorted(
        d.to_dict()["resize"] for d in sm.sweep(text, rule="rf", resize=policies).designs
    )


EMPTY = [
    ("read_annotations", lambda: sm.read_annotations(""), "annotations: expected a path, got an empty value"),
    ("recommend", lambda: sm.recommend("", rule="rf"), "annotations: expected a path, got an empty value"),
    ("sweep", lambda: sm.sweep("", "retinanet"), "annotations: expected a path, got an empty value"),
    ("summarize_files", lambda: _dataset().summarize_files(""), "annotations: expected a path, got an empty value"),
    ("in a list", lambda: sm.read_annotations([str(sm.sample_path()), ""]),
     "annotations: expected a path, got an empty value in the list"),
    ("a path object", lambda: sm.recommend(_Elsewhere(""), "retinanet"),
     "annotations: expected a path, got an empty value"),
    ("load", lambda: _dataset().load(""), "path: expected a path, got an empty value"),
    ("summarize_file", lambda: _dataset().summarize_file(_Elsewhere("")), "path: expected a path, got an empty value"),
    ("detect_format", lambda: _dataset().detect_format(""), "path: expected a path, got an empty value"),
    ("save_figure", lambda: sm.save_figure(__import__("matplotlib.figure").figure.Figure(), ""),
     "path: expected a path, got an empty value"),
    ("write_report", lambda: _write_report("", {"report.html": b"<html>"}), "out: expected a path, got an empty value"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "call", "message"), EMPTY, ids=[c[0] for c in EMPTY])
def test_an_empty_path_is_refused_as_the_command_line_refuses_it(
    case: str, call: Callable[[], object], message: str
) -> None:
    """The empty path would read the current folder ('.'): refused, naming the parameter, as ``stats ""`` is
    (review round 17, F8 d)."""
    with pytest.raises(OptionError) as caught:
        call()
    assert str(caught.value) == message


def test_the_empty_path_message_is_the_command_line_s() -> None:
    from typer.testing import CliRunner

    from scalematch.cli.main import app

    run = CliRunner().invoke(app, ["stats", ""])
    assert run.exit_code == 2
    assert run.stderr.strip().splitlines()[-1] == "Error: " + EMPTY[0][2]


def test_a_dataframe_of_a_subclass_is_a_table_not_paths(boxes: Any) -> None:
    """A DataFrame subclass (GeoPandas', a user's) is iterable over its column names: recommend takes it as a
    box table, and read_annotations refuses it as a DataFrame, never reading its column names as paths."""
    import pandas as pd

    class Frame(pd.DataFrame):
        pass

    table = Frame(boxes.to_frame())
    assert sm.recommend(table, rule="rf").to_dict() == sm.recommend(boxes.to_frame(), rule="rf").to_dict()
    with pytest.raises(OptionError) as caught:
        sm.read_annotations(table)
    assert str(caught.value) == (
        "annotations: expected a path (str or pathlib.Path), a glob pattern or a list of them, got a DataFrame "
        "(from_frame(table) makes a LoadResult of a box table)"
    )


def test_numbers_of_other_types_are_taken_as_the_floats_and_ints_they_stand_for(boxes: Any) -> None:
    """A Fraction or a numpy number passes the number checks: it is taken at the door as the plain float or int it
    stands for, so the result is the one of that float, and its repr and JSON work (review round 18, F6)."""
    import json
    from fractions import Fraction

    import numpy as np

    from scalematch.presets import override

    for mode in ({"detector": "retinanet"}, {"rule": "rf"}):
        plain = sm.recommend(boxes, **mode, coverage=0.9)
        for share in (Fraction(9, 10), np.float32(0.9), np.float64(0.9)):
            result = sm.recommend(boxes, **mode, coverage=share)
            assert result.to_dict() == sm.recommend(boxes, **mode, coverage=float(share)).to_dict()
            json.dumps(result.to_dict())
            assert repr(result).startswith(("<DetectorResult ", "<Design "))
        assert json.dumps(sm.recommend(boxes, **mode, coverage=Fraction(9, 10)).to_dict()) == json.dumps(
            plain.to_dict()
        )
    result = sm.recommend(boxes, "retinanet", coverage=np.int64(1), min_iou=Fraction(1, 5), min_positives=np.int64(2))
    assert (type(result.target), type(result.summary.min_positives)) == (float, int)
    assert result.to_dict() == sm.recommend(boxes, "retinanet", coverage=1.0, min_iou=0.2, min_positives=2).to_dict()
    json.dumps(result.to_dict())
    swept = sm.sweep(boxes, rule="rf", coverage=Fraction(9, 10), min_cells=Fraction(3), erf_factor=np.float32(2))
    json.dumps([d.to_dict() for d in swept.designs])
    design = sm.recommend(boxes, rule="anchors", anchors_per_level=np.int64(3))
    assert design.to_dict() == sm.recommend(boxes, rule="anchors", anchors_per_level=3).to_dict()
    json.dumps(design.to_dict())
    retinanet = sm.load_preset("retinanet")
    assert override(retinanet, **{"assigner.high": Fraction(3, 5)}) == override(retinanet, **{"assigner.high": 0.6})


def _fraction(numerator: int, denominator: int = 1) -> object:
    from fractions import Fraction

    return Fraction(numerator, denominator)


NUMBERS = [
    ("coverage as a Decimal", lambda b: sm.recommend(b, coverage=__import__("decimal").Decimal("0.9")),
     "coverage: expected a number, got Decimal Decimal('0.9'); give float(value)"),
    ("anchors_per_level as a whole Fraction", lambda b: sm.recommend(b, rule="anchors", anchors_per_level=_fraction(1)),
     "anchors_per_level: expected an integer, got Fraction Fraction(1, 1)"),
    ("min_positives as a whole Fraction", lambda b: sm.recommend(b, min_positives=_fraction(2)),
     "min_positives: expected an integer, got Fraction Fraction(2, 1)"),
    ("coverage beyond the floats", lambda b: sm.recommend(b, coverage=10**400),
     "coverage: expected a number within the range of a float, got int 1000000000000000000000000000000000000..."),
    ("measure_erf seed as a Fraction", lambda b: sm.measure_erf("resnet18", seed=_fraction(4, 2)),
     "seed: expected an integer, got Fraction Fraction(2, 1)"),
    ("measure_erf samples as a Fraction", lambda b: sm.measure_erf("resnet18", samples=_fraction(2)),
     "samples: expected an integer, got Fraction Fraction(2, 1)"),
    ("measure_erf samples as text", lambda b: sm.measure_erf("resnet18", samples="3"),
     "samples: expected an integer, got str '3'"),
    ("measure_erf seed as a float", lambda b: sm.measure_erf("resnet18", seed=0.5),
     "seed: expected an integer, got float 0.5"),
    ("profile_model channels as text", lambda b: sm.profile_model("resnet18", channels="3"),
     "channels: expected an integer, got str '3'"),
    ("category_figure top as text", lambda b: sm.category_figure(sm.recommend(b, rule="rf").recommendation.full,
                                                                 top="3"),
     "top: expected an integer, got str '3'"),
    ("category_figure top 0", lambda b: sm.category_figure(sm.recommend(b, rule="rf").recommendation.full, top=0),
     "top: expected an integer from 1, got 0"),
    ("positives_figure seed 0.5", lambda b: sm.positives_figure(sm.recommend(b, "retinanet").simulation, seed=0.5),
     "seed: expected an integer, got float 0.5"),
    ("shape_figure gridsize as a Fraction", lambda b: sm.shape_figure(b.table,
                                                                      sm.recommend(b, rule="rf").recommendation,
                                                                      gridsize=_fraction(48)),
     "gridsize: expected an integer, got Fraction Fraction(48, 1)"),
    ("shape_figure gridsize 0", lambda b: sm.shape_figure(b.table, sm.recommend(b, rule="rf").recommendation,
                                                          gridsize=0),
     "gridsize: expected an integer from 1 to 1,000, got 0"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "call", "message"), NUMBERS, ids=[c[0] for c in NUMBERS])
def test_numbers_follow_one_rule_everywhere(boxes: Any, case: str, call: Callable[[Any], object], message: str) -> None:
    """A number is a numbers.Real (a Decimal is not), an integer a numbers.Integral (a whole Fraction is not, as a
    whole float is not), for every parameter alike (review round 18, F6)."""
    with pytest.raises(OptionError) as caught:
        call(boxes)
    assert str(caught.value) == message


def test_measure_erf_takes_numpy_integers() -> None:
    import numpy as np

    pytest.importorskip("torch")
    result = sm.measure_erf("resnet18", "64x64", samples=np.int64(1), seed=np.int64(3))
    assert type(result.samples) is int and result.to_dict() == sm.measure_erf("resnet18", "64x64", samples=1,
                                                                               seed=3).to_dict()  # fmt: skip


_NUL_SHOWN = "got str '/tmp/a\\x00.json'"


def _nul_cases(bad: str = "\x00") -> list[tuple[str, Callable[[Any], object], str]]:
    """Every entry that takes a path or a name, given one holding ``bad``, and the error it gives."""
    from pathlib import Path

    from matplotlib.figure import Figure

    from scalematch.presets import override
    from scalematch.profile.importers.onnx import from_onnx
    from scalematch.profile.importers.torch import from_torch

    def dataset() -> Any:
        return _dataset()

    named = f"expected a path or name without {'NUL bytes' if bad == chr(0) else 'lone surrogates'}, got str "
    nul = repr(bad)[1:-1]  # as the message shows it
    path = f"/tmp/a{bad}.json"
    return [
        ("read_annotations", lambda b: sm.read_annotations(path), f"annotations: {named}'/tmp/a{nul}.json'"),
        ("read_annotations, a Path", lambda b: sm.read_annotations(Path(path)),
         f"annotations: {named}'/tmp/a{nul}.json'"),
        ("read_annotations, in a list", lambda b: sm.read_annotations([str(sm.sample_path()), path]),
         f"annotations: {named}'/tmp/a{nul}.json' in the list"),
        ("load", lambda b: dataset().load(path), f"path: {named}'/tmp/a{nul}.json'"),
        ("summarize_file", lambda b: dataset().summarize_file(path), f"path: {named}'/tmp/a{nul}.json'"),
        ("summarize_files", lambda b: dataset().summarize_files(path), f"annotations: {named}'/tmp/a{nul}.json'"),
        ("recommend", lambda b: sm.recommend(path), f"annotations: {named}'/tmp/a{nul}.json'"),
        ("recommend, detector", lambda b: sm.recommend(b, f"r{bad}.yaml"), f"detector: {named}'r{nul}.yaml'"),
        ("recommend, backbone", lambda b: sm.recommend(b, backbone=f"r{bad}.yaml"), f"backbone: {named}'r{nul}.yaml'"),
        ("recommend, rule backbone", lambda b: sm.recommend(b, rule="rf", backbone=f"r{bad}.yaml"),
         f"backbone: {named}'r{nul}.yaml'"),
        ("recommend, neck", lambda b: sm.recommend(b, neck=f"n{bad}.yaml"), f"neck: {named}'n{nul}.yaml'"),
        ("sweep, backbones", lambda b: sm.sweep(b, rule="rf", backbone=["resnet18", f"r{bad}.yaml"]),
         f"backbone: {named}'r{nul}.yaml'"),
        ("profile_model", lambda b: sm.profile_model(f"n{bad}.yaml"), f"backbone: {named}'n{nul}.yaml'"),
        ("profile_model, neck", lambda b: sm.profile_model("resnet18", f"n{bad}.yaml"), f"neck: {named}'n{nul}.yaml'"),
        ("load_backbone", lambda b: sm.load_backbone(f"n{bad}.yaml"), f"backbone: {named}'n{nul}.yaml'"),
        ("measure_erf", lambda b: sm.measure_erf(f"n{bad}.yaml"), f"model: {named}'n{nul}.yaml'"),
        ("measure_erf, a Path", lambda b: sm.measure_erf(Path(f"n{bad}.yaml")), f"model: {named}'n{nul}.yaml'"),
        ("measure_erf, neck", lambda b: sm.measure_erf("resnet18", neck=f"n{bad}.yaml"), f"neck: {named}'n{nul}.yaml'"),
        ("load_preset", lambda b: sm.load_preset(f"p{bad}.yaml"), f"name: {named}'p{nul}.yaml'"),
        ("override", lambda b: override(sm.load_preset("retinanet"), backbone=f"n{bad}.yaml"),
         f"preset retinanet: backbone: {named}'n{nul}.yaml'"),
        ("save_figure", lambda b: sm.save_figure(Figure(), f"/tmp/f{bad}.png"), f"path: {named}'/tmp/f{nul}.png'"),
        ("write_report", lambda b: _write_report(f"/tmp/r{bad}", {"report.html": b"<html>"}),
         f"out: {named}'/tmp/r{nul}'"),
        ("from_onnx", lambda b: from_onnx(f"m{bad}.onnx"), f"model: {named}'m{nul}.onnx'"),
        ("from_torch", lambda b: from_torch(f"pkg:Net{bad}"), f"model: {named}'pkg:Net{nul}'"),
    ]  # fmt: skip


@pytest.mark.parametrize("index", range(24))
def test_a_nul_byte_in_a_path_is_one_option_error(boxes: Any, index: int) -> None:
    """No file name holds a NUL byte: every entry that takes a path or a name refuses one in a line naming the
    parameter, instead of the operating system's bare 'ValueError: embedded null byte' (review round 18, F8)."""
    cases = _nul_cases()
    assert len(cases) == 24
    case, call, message = cases[index]
    with pytest.raises(OptionError) as caught:
        call(boxes)
    assert str(caught.value) == message, case


@pytest.mark.parametrize("index", range(24))
def test_a_lone_surrogate_in_a_path_is_one_option_error(boxes: Any, index: int) -> None:
    """No file name holds a lone surrogate that is not the escape of a byte (``'a\\ud800.json'``; a Latin-1 name
    read by ``os.fsdecode`` is ``'caf\\udce9.json'``, taken): the same entries refuse one in a line naming the
    parameter, instead of a bare UnicodeEncodeError (review round 25, F3)."""
    case, call, message = _nul_cases("\ud800")[index]
    with pytest.raises(OptionError) as caught:
        call(boxes)
    assert str(caught.value) == message, case


def test_an_unknown_backbone_or_neck_names_the_parameter(boxes: Any) -> None:
    """An unknown backbone or neck name begins with the parameter that gave it in every function, rule mode and
    profile_model as in detector mode (review round 25, F7)."""
    backbone = "backbone: unknown backbone 'nope'; expected a YAML or .onnx path"
    neck = "neck: unknown neck 'nope'; expected a YAML path or one of: fpn, fpn-fcos, fpn-retinanet, pan, ssd"
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: sm.recommend(boxes, "retinanet", backbone="nope"), backbone),
        (lambda: sm.recommend(boxes, rule="rf", backbone="nope"), backbone),
        (lambda: sm.sweep(boxes, rule="rf", backbone=["resnet18", "nope"]), backbone),
        (lambda: sm.recommend(boxes, rule="rf", neck="nope"), neck),
        (lambda: sm.profile_model("nope"), backbone),
        (lambda: sm.profile_model("resnet18", "nope"), neck),
        (lambda: sm.load_backbone("nope"), backbone),
        (lambda: sm.measure_erf("nope"), "model" + backbone.removeprefix("backbone")),
        (lambda: sm.measure_erf("resnet18", neck="nope"), neck),
    ]
    for call, message in cases:
        with pytest.raises(sm.ScalematchError) as caught:
            call()
        assert str(caught.value).startswith(message), str(caught.value)


def test_what_is_no_path_is_named_for_what_it_is(boxes: Any) -> None:
    """A memoryview of bytes, a column of numbers (a pandas Series) and a LoadResult given where paths are
    expected are named as such, not as their first byte or number (review round 18, F8)."""
    from scalematch.dataset import load

    many = "annotations: expected a path (str or pathlib.Path), a glob pattern or a list of them, got "
    tables = "annotations: expected a path (str or pathlib.Path), a glob pattern or a list of them, a LoadResult or a "
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: sm.read_annotations(memoryview(b"/x.json")),
         many + "a memoryview (bytes b'/x.json'); give the path as text"),
        (lambda: load(cast(Any, memoryview(b"/x.json"))),
         "path: expected a path (str or pathlib.Path), got a memoryview (bytes b'/x.json'); give the path as text"),
        (lambda: sm.recommend(boxes.to_frame()["w"]),
         tables + f"pandas DataFrame, got a pandas Series holding float {float(boxes.table['w'].iloc[0])!r}"),
        (lambda: sm.read_annotations(boxes.to_frame()["w"]),
         many + f"a pandas Series holding float {float(boxes.table['w'].iloc[0])!r}"),
        (lambda: sm.read_annotations(boxes),
         many + "a LoadResult (annotations already read: recommend() and sweep() take it as it is)"),
    ]  # fmt: skip
    for call, message in cases:
        with pytest.raises(OptionError) as caught:
            call()
        assert str(caught.value) == message
    assert sm.recommend(__import__("pandas").Series([str(sm.sample_path())]), rule="rf").data.source  # paths: taken


EMPTY_LISTS = [
    ("sweep resize=[]", lambda b: sm.sweep(b, rule="rf", resize=[]),
     "resize: expected at least one policy, got an empty list"),
    ("sweep resize=()", lambda b: sm.sweep(b, rule="rf", resize=()),
     "resize: expected at least one policy, got an empty tuple"),
    ("recommend resize=[]", lambda b: sm.recommend(b, rule="rf", resize=[]),
     "resize: expected at least one policy, got an empty list"),
    ("detector resize=[]", lambda b: sm.sweep(b, "retinanet", resize=[]),
     "resize: expected at least one policy, got an empty list"),
    ("detector backbone=[]", lambda b: sm.recommend(b, "retinanet", backbone=[]),
     "backbone: expected at least one name, got an empty list"),
    ("resolve_preset resize=()", lambda b: __import__("scalematch.match.api").match.api.resolve_preset(resize=()),
     "resize: expected at least one policy, got an empty tuple"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "call", "message"), EMPTY_LISTS, ids=[c[0] for c in EMPTY_LISTS])
def test_an_empty_list_is_never_the_default(boxes: Any, case: str, call: Callable[[Any], object], message: str) -> None:
    """resize=[] is refused as resize='' and backbone=[] are, not run at the default policy (review round 18,
    F10)."""
    with pytest.raises(OptionError) as caught:
        call(boxes)
    assert str(caught.value) == message


_MADE: dict[str, Any] = {}


def _made(name: str, boxes: Any) -> Any:
    """The results the figure functions take, made once for the table below: a rule design, a detector result,
    a profile."""
    if name not in _MADE:
        _MADE[name] = {
            "design": lambda: sm.recommend(boxes, rule="rf"),
            "detector": lambda: sm.recommend(boxes, "retinanet"),
            "profile": lambda: sm.profile_model("resnet18"),
        }[name]()
    return _MADE[name]


def _full(boxes: Any) -> Any:
    return _made("design", boxes).recommendation.full


def _rec(boxes: Any) -> Any:
    return _made("design", boxes).recommendation


_AX = "ax: expected a matplotlib Axes (or None: a new figure), got int 5"
_LEVELS = "recommended: expected level names ('P3,P4' or a list), got "
_TAPS = "taps: expected tap names ('a,b' or 'C3=a,C4=b'), a list of them or a dict tap -> name, got "
_LABEL = "label: expected a name for the legend (str), or None: the profile's name, got "

ARGUMENTS = [
    ("profile_figure label=5", lambda b: sm.profile_figure(_made("profile", b), label=5), _LABEL + "int 5"),
    ("profile_figure label=1.5", lambda b: sm.profile_figure(_made("profile", b), label=1.5), _LABEL + "float 1.5"),
    ("profile_figure label=True", lambda b: sm.profile_figure(_made("profile", b), label=True), _LABEL + "bool True"),
    ("profile_figure label=np.float64", lambda b: sm.profile_figure(_made("profile", b),
                                                                     label=__import__("numpy").float64(1.5)),
     _LABEL + "float64 np.float64(1.5)"),
    ("profile_figure log='no'", lambda b: sm.profile_figure(_made("profile", b), log="no"),
     "log: expected True or False, got str 'no'"),
    ("profile_figure log=1", lambda b: sm.profile_figure(_made("profile", b), log=1),
     "log: expected True or False, got int 1"),
    ("load_figure recommended=3", lambda b: sm.load_figure(_full(b), recommended=3), _LEVELS + "int 3"),
    ("load_figure recommended=0", lambda b: sm.load_figure(_full(b), recommended=0), _LEVELS + "int 0"),
    ("load_figure recommended=True", lambda b: sm.load_figure(_full(b), recommended=True), _LEVELS + "bool True"),
    ("load_figure recommended=np.int64", lambda b: sm.load_figure(_full(b),
                                                                  recommended=__import__("numpy").int64(5)),
     _LEVELS + "int64 np.int64(5)"),
    ("load_figure recommended=b'P3'", lambda b: sm.load_figure(_full(b), recommended=b"P3"), _LEVELS + "bytes b'P3'"),
    ("load_figure recommended=[3]", lambda b: sm.load_figure(_full(b), recommended=[3]), _LEVELS + "list [3]"),
    ("load_figure recommended=('P9',)", lambda b: sm.load_figure(_full(b), recommended=("P9",)),
     "recommended: expected levels of the match (P2, P3, P4, P5, P6), got str 'P9'"),
    ("load_figure recommended='P3,P9'", lambda b: sm.load_figure(_full(b), recommended="P3,P9"),
     "recommended: expected levels of the match (P2, P3, P4, P5, P6), got str 'P9'"),
    ("measure_erf tap=['C3']", lambda b: sm.measure_erf("resnet18", tap=["C3"]),
     "tap: expected an output name or node (str), got list ['C3']"),
    ("measure_erf tap=3", lambda b: sm.measure_erf("resnet18", tap=3),
     "tap: expected an output name or node (str), got int 3"),
    ("measure_erf(5)", lambda b: sm.measure_erf(5),
     "model: expected a model name or path, an nn.Module or a Graph, got int 5"),
    ("measure_erf(None)", lambda b: sm.measure_erf(None),
     "model: expected a model name or path, an nn.Module or a Graph, got NoneType None"),
    ("measure_erf('')", lambda b: sm.measure_erf(""), "model: expected a model name or path, got an empty value"),
    ("load_backbone taps=5", lambda b: sm.load_backbone("resnet18", taps=5), _TAPS + "int 5"),
    ("load_backbone taps=True", lambda b: sm.load_backbone("resnet18", taps=True), _TAPS + "bool True"),
    ("load_backbone taps=(1, 2)", lambda b: sm.load_backbone("resnet18", taps=(1, 2)), _TAPS + "tuple (1, 2)"),
    ("load_backbone taps=b'a'", lambda b: sm.load_backbone("resnet18", taps=b"a"), _TAPS + "bytes b'a'"),
    ("load_backbone passthrough=5", lambda b: sm.load_backbone("resnet18", passthrough=5),
     "passthrough: expected names ('A,B' or a list of texts), got int 5"),
    ("profile_model passthrough=np.int64", lambda b: sm.profile_model("resnet18",
                                                                      passthrough=__import__("numpy").int64(5)),
     "passthrough: expected names ('A,B' or a list of texts), got int64 np.int64(5)"),
    ("profile_model taps=2.5", lambda b: sm.profile_model("resnet18", taps=2.5), _TAPS + "float 2.5"),
    # an nn.Module's taps and channels went to the trace unchecked: a TypeError, a 1x1025x224x224 run (round 47, F2-3)
    ("profile_model(module, taps=5)", lambda b: sm.profile_model(_module(), taps=5), _TAPS + "int 5"),
    ("profile_model(module, taps=['0', 1])", lambda b: sm.profile_model(_module(), taps=["0", 1]),
     _TAPS + "list ['0', 1]"),
    ("profile_model(module, taps={'C3': 1})", lambda b: sm.profile_model(_module(), taps={"C3": 1}),
     "taps: expected a dict of tap names to value names, both texts, got str 'C3': int 1"),
    ("profile_model(module, channels=1025)", lambda b: sm.profile_model(_module(), channels=1025),
     "channels: expected at most 1024 input channels (the model is run once on an input of that many; images have "
     "1 to a few hundred), got 1025"),
    ("profile_model(module, channels=3.0)", lambda b: sm.profile_model(_module(), channels=3.0),
     "channels: expected an integer, got float 3.0"),
    ("profile_model allow_misaligned='no'", lambda b: sm.profile_model("resnet18", allow_misaligned="no"),
     "allow_misaligned: expected True or False, got str 'no'"),
    ("category_figure ax=5", lambda b: sm.category_figure(_full(b), ax=5), _AX),
    ("load_figure ax=5", lambda b: sm.load_figure(_full(b), ax=5), _AX),
    ("overlay_figure ax=5", lambda b: sm.overlay_figure(b.table, _rec(b), ax=5), _AX),
    ("shape_figure ax=5", lambda b: sm.shape_figure(b.table, _rec(b), ax=5), _AX),
    ("positives_figure ax=5", lambda b: sm.positives_figure(_made("detector", b).simulation, ax=5), _AX),
    ("profile_figure ax=5", lambda b: sm.profile_figure(_made("profile", b), ax=5), _AX),
    ("sweep_figure ax=5", lambda b: sm.sweep_figure([_made("design", b)], ax=5), _AX),
    ("profile_figure ax=a Figure", lambda b: sm.profile_figure(_made("profile", b),
                                                               ax=__import__("matplotlib.figure").figure.Figure()),
     "ax: expected a matplotlib Axes (or None: a new figure), got Figure <Figure size 640x480 with 0 Axes>"),
    ("from_frame source=5", lambda b: sm.from_frame(b.to_frame(), source=5),
     "source: expected a name for the table (str), as results name their annotations, got int 5"),
    ("save_figure option=5", lambda b: sm.save_figure(__import__("matplotlib.figure").figure.Figure(), "f.png",
                                                      option=5),
     "option: expected the name of the path in errors (str), got int 5"),
    ("recommend of a LoadResult, format='kitti'", lambda b: sm.recommend(b, rule="rf", format="kitti"),
     "format: expected one of coco, voc, yolo, got 'kitti'"),
    ("recommend of a LoadResult, detector, format=''", lambda b: sm.recommend(b, "retinanet", format=""),
     "format: expected one of coco, voc, yolo, got ''"),
    ("recommend of a LoadResult, client=5", lambda b: sm.recommend(b, rule="rf", client=5),
     "client: expected a distributed.Client, got int"),
    ("recommend of a LoadResult, detector, client='x'", lambda b: sm.recommend(b, "retinanet", client="x"),
     "client: expected a distributed.Client, got str"),
    ("sweep of a DataFrame, workers=0", lambda b: sm.sweep(b.to_frame(), rule="rf", workers=0),
     "workers: expected an integer from 1 to 1024, got 0"),
    # review round 25, F1 and F2: the unit of a profile's map, checked at the door
    ("input_box key=None", lambda b: _sized().input_box(None, 0, 0),
     "key: expected the name of an output or node (str), got NoneType None"),
    ("input_box key='P9'", lambda b: _sized().input_box("P9", 0, 0),
     "key: 'P9' is not an output or node of resnet18 (outputs: C1, C2, C3, C4, C5)"),
    ("unit_pixels key='P9', no input size", lambda b: _made("profile", b).unit_pixels("P9", 0, 0),
     "key: 'P9' is not an output or node of resnet18 (outputs: C1, C2, C3, C4, C5)"),
    ("input_box i=3.0", lambda b: _sized().input_box("C5", 3.0, 3), "i: expected an integer, got float 3.0"),
    ("unit_pixels j='1'", lambda b: _sized().unit_pixels("C5", 0, "1"), "j: expected an integer, got str '1'"),
    ("input_box i=True", lambda b: _sized().input_box("C5", True, 0), "i: expected an integer, got bool True"),
    # review round 25, F4: arrays and pandas objects where a name or a client is expected
    ("DetectorResult.to_frame kind=array", lambda b: _made("detector", b).to_frame(_np().array(["levels", "x"])),
     "kind: expected one of levels, sizes, categories, objects, got an object of type ndarray"),
    ("DetectorResult.to_frame kind=Series", lambda b: _made("detector", b).to_frame(_pd().Series(["levels"])),
     "kind: expected one of levels, sizes, categories, objects, got an object of type Series"),
    ("DetectorResult.to_frame kind='x'", lambda b: _made("detector", b).to_frame("x"),
     "kind: expected one of levels, sizes, categories, objects, got str 'x'"),
    ("Design.to_frame kind=Series", lambda b: _made("design", b).to_frame(_pd().Series(["levels"])),
     "kind: expected one of levels, categories, objects, got an object of type Series"),
    ("Design.to_frame kind=DataFrame", lambda b: _made("design", b).to_frame(_pd().DataFrame()),
     "kind: expected one of levels, categories, objects, got an object of type DataFrame"),
    ("measure_erf weights=array", lambda b: sm.measure_erf("resnet18", weights=_np().array(["a", "b"])),
     "weights: expected one of uniform, random, model, got an object of type ndarray"),
    ("measure_erf weights=Series", lambda b: sm.measure_erf("resnet18", weights=_pd().Series(["random"])),
     "weights: expected one of uniform, random, model, got an object of type Series"),
    ("read_annotations client=Series", lambda b: sm.read_annotations(None, client=_pd().Series([1])),
     "client: expected a distributed.Client, got Series"),
    ("read_annotations client=DataFrame", lambda b: sm.read_annotations(None, client=_pd().DataFrame()),
     "client: expected a distributed.Client, got DataFrame"),
    ("recommend of a LoadResult, client=Series", lambda b: sm.recommend(b, "retinanet", client=_pd().Series([1])),
     "client: expected a distributed.Client, got Series"),
    ("read_annotations(np.array(5))", lambda b: sm.read_annotations(_np().array(5)),
     "annotations: expected a path (str or pathlib.Path), a glob pattern or a list of them, got ndarray array(5)"),
    ("recommend(np.array(5))", lambda b: sm.recommend(_np().array(5)),
     "annotations: expected a path (str or pathlib.Path), a glob pattern or a list of them, a LoadResult or a "
     "pandas DataFrame, got ndarray array(5)"),
    # review round 25, F5: one line, whatever the value
    ("recommend workers=Series", lambda b: sm.recommend(b, "retinanet", workers=_pd().Series([1])),
     "workers: expected an integer from 1 to 1024, got an object of type Series"),
    ("read_annotations workers=DataFrame", lambda b: sm.read_annotations(None, workers=_pd().DataFrame()),
     "workers: expected an integer from 1 to 1024, got an object of type DataFrame"),
    ("recommend rule=Series", lambda b: sm.recommend(b, rule=_pd().Series([1])),
     "rule: expected rf, fpn, fcos, anchors or yolo, got an object of type Series"),
    ("recommend rule=5", lambda b: sm.recommend(b, rule=5), "rule: expected rf, fpn, fcos, anchors or yolo, got int 5"),
    ("measure_erf weights='a\\nb'", lambda b: sm.measure_erf("resnet18", weights="a\nb"),
     "weights: expected one of uniform, random, model, got str 'a\\nb'"),
    ("save_figure path='a\\nb'", lambda b: sm.save_figure(__import__("matplotlib.figure").figure.Figure(), "a\nb"),
     "path a\\nb: expected a file ending in .png, .svg, .pdf, got no suffix"),
    # review round 31: a trailing separator names a folder, as the command line says
    ("save_figure path='nodir/'", lambda b: sm.save_figure(__import__("matplotlib.figure").figure.Figure(), "nodir/"),
     "path nodir/: names a folder; expected a file name"),
]  # fmt: skip


ONE_LINE: list[tuple[Callable[[Any], object], str | None]] = [
    (lambda b: sm.recommend(b, "a\nb"),
     "detector: unknown detector 'a\\nb'; expected a file or one of: atss, faster-rcnn, fcos, retinanet, ssd300, "
     "yolov5, yolov8"),
    (lambda b: sm.read_annotations("a\nb"), "a\\nb: no such file or folder"),
    (lambda b: sm.load_preset("a\rb"),
     "name: unknown detector 'a\\rb'; expected a file or one of: atss, faster-rcnn, fcos, retinanet, ssd300, yolov5, "
     "yolov8"),
    (lambda b: sm.profile_model("a\nb"), None),
    (lambda b: sm.profile_model("resnet18", neck="a\rb"), None),
    (lambda b: sm.recommend(b, rule="rf", backbone="a\x1b[31mb"), None),
    (lambda b: sm.sweep(b, "a\nb"), None),
    (lambda b: sm.load_preset("a\rb"), None),
    (lambda b: sm.measure_erf("a\nb"), None),
    (lambda b: sm.read_annotations(None, resize="a\nb"), None),
    (lambda b: sm.recommend(b, "retinanet", levels="P3,a\u2028b"), None),
]  # fmt: skip


def test_an_escaped_message_is_still_worded_by_the_api(boxes: Any) -> None:
    """The API rewords an error of a preset's override by finding its prefix, which names the preset: a name
    holding a newline is found in the message as raised, not in its escaped text (review round 25, F5)."""
    from dataclasses import replace

    odd = replace(sm.load_preset("retinanet"), name="a\nb")
    with pytest.raises(OptionError) as caught:
        sm.recommend(boxes, odd, backbone="vgg16-ssd")
    assert str(caught.value) == (
        "neck: neck 'fpn-retinanet' reads C3, C4, C5, but backbone 'vgg16-ssd' has no C5 (outputs: C1, C2, C3, C4)"
    )
    with pytest.raises(OptionError) as caught:
        sm.recommend(boxes, odd, neck="pan")
    assert str(caught.value).startswith("neck: preset a\\nb's levels P3, P4, P5, P6, P7 are not outputs of ")


@pytest.mark.parametrize(("call", "message"), ONE_LINE)
def test_an_error_quoting_a_control_character_is_one_printable_line(
    boxes: Any, call: Callable[[Any], object], message: str | None
) -> None:
    """Every message, whichever function builds it and whatever error it is (an unknown backbone is a
    ConfigError, a missing file a DatasetError), shows a newline, a carriage return, an escape or a line separator
    of the input as its escape, as the command line does (review round 25, F5)."""
    with pytest.raises(ScalematchError) as caught:
        call(boxes)
    assert str(caught.value).isprintable(), str(caught.value)
    assert message is None or str(caught.value) == message


def _np() -> Any:
    import numpy

    return numpy


def _pd() -> Any:
    import pandas

    return pandas


def _sized() -> Any:
    """resnet18 profiled at 224x224 (its units' pixels are exact at the edges), made once."""
    if "sized" not in _MADE:
        _MADE["sized"] = sm.profile_model("resnet18", input_size="224x224")
    return _MADE["sized"]


@pytest.mark.parametrize(("case", "call", "message"), ARGUMENTS, ids=[c[0] for c in ARGUMENTS])
def test_every_argument_of_the_api_is_checked_at_the_door(
    boxes: Any, case: str, call: Callable[[Any], object], message: str
) -> None:
    """Each argument of the public functions, not only the first: a wrong type, an unknown level and text
    given for a flag are one OptionError naming the argument, never an AttributeError or TypeError from inside
    nor a truth value taken silently (review round 23, F2)."""
    with pytest.raises(OptionError) as caught:
        call(boxes)
    assert str(caught.value) == message


def test_the_arguments_of_the_right_types_still_work(boxes: Any) -> None:
    """Level names as a comma list, a list or a tuple (or none), a numpy bool for a flag, a label, taps and
    passthrough names as text, lists or none, an Axes to draw on: taken as before."""
    import numpy as np
    from matplotlib.figure import Figure

    full, rec = _full(boxes), _rec(boxes)
    chosen = list(rec.recommended_levels)
    hatched = [
        len([b for b in f.axes[0].patches if b.get_hatch()])
        for f in (
            sm.load_figure(full, ",".join(chosen)),
            sm.load_figure(full, chosen),
            sm.load_figure(full, tuple(chosen)),
        )
    ]
    assert hatched[0] == hatched[1] == hatched[2] == len(full.levels) - len(chosen) > 0
    assert not [b for b in sm.load_figure(full, None).axes[0].patches if b.get_hatch()]
    ax = Figure().add_subplot()
    assert sm.load_figure(full, chosen, ax=ax) is ax.figure
    profile = _made("profile", boxes)
    drawn = sm.profile_figure(profile, log=np.True_, label="mine")
    assert drawn.axes[0].get_yscale() == "log"
    assert drawn.axes[0].get_legend_handles_labels()[1][0] == "mine: spatial scale (union width)"
    assert sm.profile_model("resnet18", passthrough=None) == sm.profile_model("resnet18")
    assert sm.profile_model("resnet18", allow_misaligned=np.False_) == sm.profile_model("resnet18")
    assert sm.from_frame(boxes.to_frame(), source="mine").source == "mine"
    assert (
        sm.recommend(boxes, rule="rf", format="COCO", workers=np.int64(2)).to_dict() == _made("design", boxes).to_dict()
    )


def _choices() -> list[Any]:
    """Every enum a notebook imports from scalematch (its ``__all__``)."""
    from enum import Enum

    found = [getattr(sm, name) for name in sm.__all__]
    return [c for c in found if isinstance(c, type) and issubclass(c, Enum)]


def test_every_exported_enum_is_tested() -> None:
    assert {c.__name__ for c in _choices()} >= {"Rule", "Format", "Toolkit", "Weights"}


@pytest.mark.parametrize("choice", _choices(), ids=lambda c: c.__name__)
def test_an_exported_enum_takes_its_names_in_any_case(choice: Any) -> None:
    """As format= and rule= take them: Format("COCO") is Format.COCO (was a bare ValueError, review round 28)."""
    for member in choice:
        assert choice(member.value.upper()) is choice(member.value.title()) is choice(member) is member


@pytest.mark.parametrize("bad", ["bogus", None, 3, ["rf"], "x" * 5000, "a\nb"])
@pytest.mark.parametrize("choice", _choices(), ids=lambda c: c.__name__)
def test_an_exported_enum_refuses_a_bad_value_with_one_option_error(choice: Any, bad: object) -> None:
    """A value that is none of its names is one OptionError line listing them (a ValueError too, as a plain
    Enum's error is, so that ``except ValueError`` still catches it); a long text is shown cut."""
    from scalematch.choices import values

    with pytest.raises(OptionError) as caught:
        choice(bad)
    text = str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert text.startswith(f"{choice.__name__}: expected {values(choice)} (in any case), got ")
    assert "\n" not in text and len(text) < 200
    if bad == "x" * 5000:
        assert text.endswith("...xxxxxxxxxxxxxxxxxxxx'")


def test_measure_erf_takes_its_weights_in_any_case() -> None:
    pytest.importorskip("torch", reason="the 'torch' extra is not installed (pip install '.[torch]')")
    graph = sm.load_backbone("resnet18")
    upper = sm.measure_erf(graph, (64, 64), samples=1, weights="UNIFORM")
    assert upper.weights == "uniform"
    assert upper.to_dict() == sm.measure_erf(graph, (64, 64), samples=1, weights="uniform").to_dict()
