import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from PIL import Image  # noqa: E402

from kt_ext.outputs.figures import save_figure  # noqa: E402


def test_a_title_wider_than_the_figure_is_kept_whole(tmp_path):
    fig, ax = plt.subplots(figsize=(2.0, 2.0))
    ax.plot([0, 1], [0, 1])
    fig.suptitle("a title of a figure that is far wider than the two inches the figure has")
    save_figure(fig, tmp_path / "wide.png")
    width, _ = Image.open(tmp_path / "wide.png").size
    assert width > 300  # 2 inches at 100 dpi would cut the title at 200 pixels
    assert [p.name for p in tmp_path.iterdir()] == ["wide.png"]  # no temporary file left
