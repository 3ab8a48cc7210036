"""Real browser, the models of issue 12 on their pages (Chromium through Playwright; conftest's `page` fixture
skips these when Chromium or Playwright is missing, and `streamlit_server` runs `streamlit run app.py`):

- Image GAN: a share link with `compare=1` trains run A and run B (a preset on A's data, with A's seed) side by
  side; both runs' lines advance and both grids appear beside the real images.
- Latent space: a VAE checkpoint (written by the CLI) encodes two real digits; the page shows them, their
  reconstructions and the decoded path between their codes, and another digit B gives another picture.
"""
import re
from urllib.parse import urlencode

import pytest

pytestmark = pytest.mark.browser

RUN_LINE = re.compile(r"^Run ([AB]) · step (\d+) / (\d+) · ")
BOTH_MOVED = """(first) => {
    const seen = {};
    for (const p of document.querySelectorAll('[data-testid="stMarkdownContainer"] p')) {
        const m = /^Run ([AB]) · step (\\d+) \\//.exec(p.innerText);
        if (m) seen[m[1]] = parseInt(m[2]);
    }
    return seen.A > first.A && seen.B > first.B;
}"""
IMAGES_DECODED = """(n) => { const imgs = [...document.querySelectorAll('[data-testid="stImage"] img')];
    return imgs.length >= n && imgs.slice(0, n).every(i => i.complete && i.naturalWidth > 0); }"""


def pair_link() -> str:
    """Run A: the tutorials' MLP GAN, small, on the 8x8 digits; run B: the mnist-mlp preset on the same data."""
    from ganlab.presets import PRESETS

    a = PRESETS["mnist-mlp"].config.replace(data="digits", g_width=64, d_width=64, batch_size=32, steps=100_000,
                                            log_every=20)
    return urlencode({"preset": "mnist-mlp", **a.to_query(), "compare": "1", "b_preset": "mnist-mlp"})


def run_steps(page) -> dict[str, int]:
    texts = page.locator('[data-testid="stMarkdownContainer"] p').all_inner_texts()
    return {m.group(1): int(m.group(2)) for m in map(RUN_LINE.match, texts) if m}


@pytest.mark.timeout(150)
def test_two_image_runs_train_side_by_side(streamlit_server, page):
    expect = pytest.importorskip("playwright.sync_api").expect
    page.goto(streamlit_server)  # the app's root first (see test_browser_image_gan.py)
    expect(page.get_by_role("link", name="Image GAN")).to_be_visible(timeout=60_000)
    page.goto(f"{streamlit_server}/image_gan?{pair_link()}")
    expect(page.get_by_role("heading", name="Image GAN")).to_be_visible(timeout=30_000)
    expect(page.get_by_text(re.compile(r"^Run B is mnist-mlp"))).to_be_visible(timeout=20_000)
    page.get_by_role("button", name="Start", exact=True).click()

    expect(page.get_by_text(re.compile(r"^Run A · step [1-9]\d* / 100000 · running"))).to_be_visible(timeout=60_000)
    expect(page.get_by_text(re.compile(r"^Run B · step [1-9]\d* / 6000 · running"))).to_be_visible(timeout=30_000)
    for caption in (r"^Run A: generated at step \d+", r"^Run B: generated at step \d+",
                    r"^real images from the training data"):
        expect(page.get_by_text(re.compile(caption))).to_be_visible()
    page.wait_for_function(IMAGES_DECODED, arg=3, timeout=20_000)  # grid A, grid B, real images
    first = run_steps(page)
    assert set(first) == {"A", "B"}
    page.wait_for_function(BOTH_MOVED, arg=first, timeout=40_000)  # one job: the runs advance together
    page.get_by_role("button", name="Reset", exact=True).click()
    expect(page.get_by_text(re.compile(r"press \*?\*?Start"))).to_be_visible(timeout=20_000)


@pytest.fixture(scope="module")
def vae_checkpoint(tmp_path_factory):
    """A tiny VAE trained for 20 steps by `python -m ganlab train --preset mnist-vae ... --out DIR`."""
    from ganlab.cli.main import main

    out = tmp_path_factory.mktemp("vae")
    assert main(["train", "--preset", "mnist-vae", "--steps", "20", "--threads", "1", "--quiet", "--n-samples", "16",
                 "--set", "dcgan_width=8", "z_dim=8", "log_every=10", "--out", str(out)]) == 0
    return out / "checkpoint.pt"


@pytest.mark.timeout(150)
def test_a_vae_encodes_two_real_digits_and_walks_between_them(streamlit_server, page, vae_checkpoint):
    expect = pytest.importorskip("playwright.sync_api").expect
    expect.set_options(timeout=20_000)
    page.goto(streamlit_server + "/latent_space")
    expect(page.get_by_role("heading", name="Latent space")).to_be_visible(timeout=30_000)
    page.get_by_text("Upload a checkpoint", exact=True).click()
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(vae_checkpoint))
    expect(page.get_by_text("vae on mnist", exact=False).first).to_be_visible()
    page.get_by_text("Encode two real digits (VAE)", exact=True).click()
    expect(page.get_by_role("radio", name="Encode two real digits (VAE)")).to_be_checked()
    expect(page.get_by_text("real A, its reconstruction", exact=False)).to_be_visible()
    expect(page.get_by_text("lerp from the code of A to the code of B: 10 decoded frames")).to_be_visible()
    page.wait_for_function(IMAGES_DECODED, arg=2, timeout=20_000)  # the pair strip and the path
    pair = page.locator('[data-testid="stImage"] img').first
    before = pair.get_attribute("src")

    page.get_by_text("slerp", exact=True).first.click()  # the great circle between the two codes
    expect(page.get_by_text("slerp from the code of A to the code of B: 10 decoded frames")).to_be_visible()
    example_b = page.get_by_label("Real digit B: example")
    example_b.fill("5")
    example_b.press("Enter")  # another real digit B: another pair, another path
    expect(pair).not_to_have_attribute("src", before)
