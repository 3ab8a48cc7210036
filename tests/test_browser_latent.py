"""Real browser: upload a checkpoint on the Latent space page, move a latent slider, see the image change.

`streamlit run app.py` (conftest.streamlit_server: headless, no file watcher) driven by Playwright's Chromium.
"""
import time
from pathlib import Path

import pytest
import torch

CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium (make chromium)"),
]


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A DCGAN trained for a few steps, saved like any user's run."""
    from ganlab import checkpoint
    from ganlab.config import TrainConfig
    from ganlab.engine.trainer import Trainer

    torch.set_num_threads(1)
    t = Trainer(TrainConfig(data="mnist", model="dcgan", z_dim=16, dcgan_width=8, batch_size=32, steps=4,
                            log_every=2, device="cpu"))
    t.step(4)
    path = tmp_path_factory.mktemp("ckpt") / "tiny-dcgan.pt"
    checkpoint.save(t, path)
    return path


@pytest.mark.timeout(120)
def test_slider_move_changes_the_image(streamlit_server, page, tiny_checkpoint):
    expect = pytest.importorskip("playwright.sync_api").expect
    expect.set_options(timeout=20_000)  # a loaded, shared CPU can be slow; a broken page still fails
    page.goto(streamlit_server + "/latent_space?mode=sliders")  # app.py runs too (the sidebar nav is there)
    expect(page.get_by_role("heading", name="Latent space")).to_be_visible(timeout=30_000)
    expect(page.locator('[data-testid="stSidebarNav"] a', has_text="Latent space")).to_be_visible()
    page.get_by_text("Upload a checkpoint", exact=True).click()
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(tiny_checkpoint))
    page.get_by_text("Sliders", exact=True).first.click()  # pick the mode (the ?mode= link is an AppTest check)
    expect(page.get_by_role("radio", name="Sliders")).to_be_checked()
    img = page.locator('[data-testid="stImage"] img').first
    expect(page.get_by_text("rendered in", exact=False).first).to_be_visible()
    before = img.get_attribute("src")
    assert before
    thumb = page.get_by_role("slider").first  # z[0]
    thumb.focus()
    t0 = time.perf_counter()
    thumb.press("End")  # z[0] -> +3
    expect(img).not_to_have_attribute("src", before)
    t1 = time.perf_counter()
    after = img.get_attribute("src")
    thumb.press("Home")  # z[0] -> -3: a different image again
    expect(img).not_to_have_attribute("src", after)
    t2 = time.perf_counter()
    caption = page.get_by_text("rendered in", exact=False).first.inner_text()
    print(f"\nslider move -> new image in the browser: {1000 * (t1 - t0):.0f} ms, {1000 * (t2 - t1):.0f} ms "
          f"(incl. Streamlit's slider debounce); the page says {caption!r}")
