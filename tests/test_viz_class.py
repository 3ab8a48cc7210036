"""The Class page's gallery figure (ganlab/viz/class_view.py): one square panel per run, in a grid, as a plain
spec with typed arrays."""
import base64

import numpy as np

from ganlab.viz.class_view import MAX_POINTS, Panel, gallery_spec


def test_one_panel_per_run_in_rows_of_cols_with_its_own_axes():
    pts = np.random.default_rng(0).standard_normal((2000, 2)).astype(np.float32)
    centers = np.zeros((8, 2), np.float32)
    panels = [Panel(f"s{k}", pts, centers, (-2.0, 2.0, -1.0, 1.0), collapsed=k == 1) for k in range(7)]
    spec = gallery_spec(panels, cols=3, panel_px=100)
    layout = spec["layout"]
    assert layout["height"] == 3 * 100 + 20  # 7 panels in rows of 3
    assert [a["text"] for a in layout["annotations"]] == [f"s{k}" for k in range(7)]
    assert layout["annotations"][1]["font"]["color"] != layout["annotations"][0]["font"]["color"]
    assert len(spec["data"]) == 14  # mode centres and generated points per panel
    fake = [t for t in spec["data"] if t["marker"].get("color")]
    assert {t["xaxis"] for t in fake} == {"x"} | {f"x{k}" for k in range(2, 8)}
    assert layout["yaxis5"]["scaleanchor"] == "x5" and layout["xaxis5"]["range"] == [-2.0, 2.0]
    x0 = layout["xaxis"]["domain"]
    assert layout["xaxis4"]["domain"] == x0 and layout["yaxis4"]["domain"][1] < layout["yaxis"]["domain"][0]
    x = fake[0]["x"]  # a typed array: float32 bytes, at most MAX_POINTS a panel
    assert x["dtype"] == "f4" and len(np.frombuffer(base64.b64decode(x["bdata"]), np.float32)) == MAX_POINTS


def test_an_empty_class_is_an_empty_figure():
    spec = gallery_spec([])
    assert spec["data"] == [] and spec["layout"]["annotations"] == []
