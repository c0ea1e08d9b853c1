"""TensorBoard with an HParams dashboard that opens on every hyperparameter that varies.

    python -m kt_ext.outputs.dashboard --logdir RUN_DIR --host 127.0.0.1 --port 0

TensorBoard's HParams dashboard ticks at most five hyperparameter columns
when it opens (a constant of its frontend; tensorflow/tensorboard#6348 and
#4770), so a space of ten entries opens with half of them hidden. Its
``main`` module says how to change its static assets: build
``program.TensorBoard`` with an ``assets_zip_provider`` of one's own. This
module does that, with TensorBoard's own ``webfiles.zip`` in which the loop
that ticks the first five columns instead ticks every column flagged
``differs`` (:func:`kt_ext.outputs.hparams.shown_hparams`, the space's first
entries) and every column whose domain holds more than one value: the whole
space, never a constant column. Only that loop changes, in memory. If this
TensorBoard's bundle does not hold that loop exactly once, the stock assets
are served and one warning line says so.
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from collections.abc import Callable
from typing import BinaryIO

#: The frontend's loop ticking the first five hyperparameter columns (minified names captured).
FIRST_FIVE = re.compile(
    r"let (\w+)=Math\.min\(5,(\w+)\.length\);"
    r"for\(let (\w+)=0;\3<\1;\3\+\+\)\2\[\3\]\.displayed=!0;"
)
BUNDLE = "index.js"


def _tick_every_varying_column(match: re.Match[str]) -> str:
    columns, i = match.group(2), match.group(3)
    info = f"{columns}[{i}].info"
    return (
        f"for(let {i}=0;{i}<{columns}.length;{i}++){columns}[{i}].displayed="
        f"{info}.differs||!!{info}.domainInterval||({info}.domainDiscrete||[]).length>1;"
    )


def patch_bundle(source: str) -> str | None:
    """``index.js`` with every varying column ticked, or ``None`` if the loop is not there once."""
    if len(FIRST_FIVE.findall(source)) != 1:
        return None
    return FIRST_FIVE.sub(_tick_every_varying_column, source)


def every_column_assets(
    stock: Callable[[], BinaryIO] | None = None,
) -> tuple[Callable[[], BinaryIO] | None, bool]:
    """An assets provider for ``program.TensorBoard``, and whether the dashboard was patched.

    Args:
        stock: TensorBoard's own provider (default: ``webfiles.zip`` of the
            installed package; ``None`` if it has none, which is returned as is).
    """
    if stock is None:
        from tensorboard import assets

        stock = assets.get_default_assets_zip_provider()
        if stock is None:
            return None, False
    with stock() as f, zipfile.ZipFile(f) as original:
        entries = [(info, original.read(info)) for info in original.infolist()]
    bundles = [data for info, data in entries if info.filename == BUNDLE]
    text = patch_bundle(bundles[0].decode("utf-8")) if len(bundles) == 1 else None
    if text is None:
        return stock, False
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in entries:
            archive.writestr(info, text.encode("utf-8") if info.filename == BUNDLE else data)
    content = out.getvalue()
    return (lambda: io.BytesIO(content)), True


def main() -> None:
    """Serve like ``python -m tensorboard.main``, with :func:`every_column_assets`."""
    from absl import app

    from kt_ext.native_log import import_tensorflow, native_log_dropped

    import_tensorflow()  # TensorBoard reads through TensorFlow when it is installed
    with native_log_dropped():  # its first device access (cuInit) logs from C++ too
        import tensorflow as tf

        tf.config.list_physical_devices()
    from tensorboard import default, main_lib, program

    main_lib.global_init()
    provider, patched = every_column_assets()
    if not patched:
        print(
            "kt-ext: warning: this TensorBoard's HParams dashboard could not be set to open on "
            "every hyperparameter; it ticks the first five",
            file=sys.stderr,
        )
    tensorboard = program.TensorBoard(plugins=default.get_plugins(), assets_zip_provider=provider)
    app.run(tensorboard.main, flags_parser=tensorboard.configure)


if __name__ == "__main__":
    main()
