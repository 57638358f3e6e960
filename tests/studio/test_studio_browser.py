"""`lbie studio` in a real browser: Debian's Chromium driven by Playwright.

Starts `lbie studio` as a user would (a subprocess on a free port), uploads
an image, says two turns, and checks the image the browser shows, read
back through a canvas, pixel for pixel against `edit` of the same inputs
by a separately loaded model (without the studio's early exit). Then undo,
a bad upload, an empty sentence, a second tab. Prints the turns' round
trips as the page measured them; with `LBIE_STUDIO_SCREENSHOT=PATH` also
writes the page's screenshot there (the README's `docs/studio.png`).
"""

import os
import re
import shutil
import signal
import subprocess
import threading

import numpy as np
import pytest
from PIL import Image

from keras_lbie.datasets import cosal
from keras_lbie.models import LBIESegmenter
from tests.cli.runner import lbie_command

CHROMIUM = "/usr/bin/chromium"
# What this machine's Chromium needs to start headless, as root, offline.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
START_TIMEOUT_S = 240
TURN_TIMEOUT_MS = 60_000

pytestmark = pytest.mark.large

READ_PIXELS = """(image) => {
  const canvas = document.createElement("canvas");
  canvas.width = image.naturalWidth;
  canvas.height = image.naturalHeight;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
  return [canvas.height, canvas.width, Array.from(data)];
}"""


@pytest.fixture(scope="module")
def studio_url():
    """The address of a running `lbie studio`; stops it afterwards."""
    pytest.importorskip("uvicorn")
    process = subprocess.Popen(
        [*lbie_command(), "studio", "--port", "0", "--model", "cosal"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stderr = []
    threading.Thread(
        target=lambda: stderr.extend(process.stderr), daemon=True
    ).start()
    timer = threading.Timer(START_TIMEOUT_S, process.kill)
    timer.start()
    line = process.stdout.readline()
    timer.cancel()
    match = re.search(r"http://\S+/", line)
    assert match, f"no address in {line!r}; stderr: {''.join(stderr)}"
    yield match.group(0)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0, "".join(stderr)
    assert "Traceback" not in "".join(stderr)


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        pytest.skip(f"no {CHROMIUM}: apt-get install chromium")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=list(CHROMIUM_ARGS)
        )
        yield browser
        browser.close()


def shown_pixels(page, selector):
    height, width, data = page.locator(selector).evaluate(READ_PIXELS)
    return np.array(data, np.uint8).reshape(height, width, 4)[..., :3]


def say(page, text, turns):
    page.fill("#sentence", text)
    page.click("#say")
    page.wait_for_selector(
        f"#turns li[data-number='{turns}']", timeout=TURN_TIMEOUT_MS
    )


def wait_idle(page):
    page.wait_for_selector("body:not([data-busy])", timeout=TURN_TIMEOUT_MS)


def test_dialogue_in_the_browser(studio_url, browser, tmp_path):
    example = cosal.generate(1, num_direct=4, seed=1, start_index=2)
    image = example["image"][0]
    Image.fromarray(image).save(tmp_path / "sketch.png")
    (tmp_path / "notes.png").write_text("The circle is red.")
    first = str(example["text"][0]).split(". ")[0] + "."
    subject = first[: first.index(" is ")]
    second = "The shape below it is light green."
    description = f"{first} The shape below {subject.lower()} is light green."
    reference = LBIESegmenter.from_preset("cosal")

    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(studio_url)
    page.wait_for_selector("body[data-ready]", timeout=TURN_TIMEOUT_MS)
    page.set_input_files("#upload", str(tmp_path / "sketch.png"))
    page.wait_for_selector("#message.info", timeout=TURN_TIMEOUT_MS)
    np.testing.assert_array_equal(shown_pixels(page, "#source"), image)

    say(page, first, 1)
    say(page, second, 2)
    assert page.inner_text("#description") == f"The model reads: {description}"
    np.testing.assert_array_equal(
        shown_pixels(page, "#turns li[data-number='2'] img.result"),
        reference.edit(image, description)[0],
    )
    np.testing.assert_array_equal(
        shown_pixels(page, "#current"), reference.edit(image, description)[0]
    )

    page.click("#undo")
    page.wait_for_selector("#turns li[data-number='2']", state="detached")
    np.testing.assert_array_equal(
        shown_pixels(page, "#current"), reference.edit(image, first)[0]
    )

    page.set_input_files("#upload", str(tmp_path / "notes.png"))
    wait_idle(page)
    assert "not an image" in page.inner_text("#message")
    page.fill("#sentence", "   ")
    page.click("#say")
    wait_idle(page)
    assert "empty" in page.inner_text("#message")

    say(page, second, 2)  # the server kept serving, the dialogue kept
    np.testing.assert_array_equal(
        shown_pixels(page, "#current"), reference.edit(image, description)[0]
    )
    other_tab = browser.new_page()
    other_tab.goto(studio_url)
    other_tab.wait_for_selector("body[data-ready]", timeout=TURN_TIMEOUT_MS)
    assert other_tab.locator("#turns li").count() == 0
    other_tab.close()

    round_trips = [
        float(value)
        for value in page.locator("#turns li").evaluate_all(
            "items => items.map(item => item.dataset.roundTripMs)"
        )
    ]
    print(f"\nstudio turns, round trip in the browser (ms): {round_trips}")
    page.locator("#turns li[data-number='2'] .views button").nth(1).click()
    page.screenshot(path=str(tmp_path / "studio.png"), full_page=True)
    target = os.environ.get("LBIE_STUDIO_SCREENSHOT")
    if target:
        shutil.copyfile(tmp_path / "studio.png", target)
