"""The served dashboard's assets: one loop of TensorBoard's bundle changed, or none at all."""

from __future__ import annotations

import io
import zipfile

from tensorboard import assets

from kt_ext.outputs.dashboard import BUNDLE, every_column_assets, patch_bundle

LOOP = "let n=Math.min(5,t.length);for(let i=0;i<n;i++)t[i].displayed=!0;"


def _zip(files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


def test_the_installed_bundle_ticks_every_varying_column_instead_of_five() -> None:
    provider, patched = every_column_assets()
    assert patched
    with zipfile.ZipFile(provider()) as ours, assets.get_default_assets_zip_provider()() as f:
        with zipfile.ZipFile(f) as stock:
            assert ours.namelist() == stock.namelist()
            for name in stock.namelist():
                if name != BUNDLE:
                    assert ours.read(name) == stock.read(name), name
            old, new = stock.read(BUNDLE).decode(), ours.read(BUNDLE).decode()
    assert "Math.min(5," in old and "Math.min(5," not in new
    assert len(new) - len(old) < 200  # one loop rewritten, nothing else
    assert "info.domainDiscrete||[]).length>1" in new


def test_the_rewritten_loop_keeps_the_bundles_own_names() -> None:
    text = "a();" + LOOP + 'this.set("_hparams",t)'
    assert patch_bundle(text) == (
        "a();for(let i=0;i<t.length;i++)t[i].displayed=t[i].info.differs||"
        "!!t[i].info.domainInterval||(t[i].info.domainDiscrete||[]).length>1;"
        'this.set("_hparams",t)'
    )


def test_another_bundle_is_served_unchanged() -> None:
    assert patch_bundle("nothing like it") is None
    assert patch_bundle(LOOP + LOOP) is None  # not one place: do not guess
    data = _zip({BUNDLE: "x=1;", "index.html": "<html>"})
    provider, patched = every_column_assets(lambda: io.BytesIO(data))
    assert not patched and provider().read() == data
