"""The page in a real browser: headless Chromium (Debian's `chromium`, installed by `.ci/run`) driven by
Playwright, which never downloads a browser of its own.

It opens the page, selects the MAD-X task adapter and the Swahili language adapter, types a Swahili
sentence, submits it, reads the rendered entities and the composition that answered, and saves a
screenshot. The page must load nothing from outside the demo's own server.
"""

import shutil
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SENTENCE = "Rais Samia Suluhu Hassan alizuru Dodoma jana."
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is missing; install Debian's chromium package (.ci/run does)")
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


def _choose(page, dropdown: str, option: str) -> None:
    page.get_by_label(dropdown, exact=True).click()
    page.get_by_role("option", name=option).first.click()


def test_a_swahili_sentence_through_the_page(browser, app, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    outside = []
    page.on("request", lambda request: None if request.url.startswith(app.local_url) else outside.append(request.url))
    page.goto(app.local_url)
    page.wait_for_selector("#ner-predict", timeout=TIMEOUT_MS)

    _choose(page, "Task", "WikiANN")
    _choose(page, "Task adapter or fine-tuned model", "MAD-X task adapter")
    _choose(page, "Language adapter", "Swahili (sw)")
    page.locator("#ner-text textarea").fill(SENTENCE)
    page.locator("#ner-predict").click()

    notes = page.locator("#ner-notes")
    notes.get_by_text("Answered by").wait_for(timeout=TIMEOUT_MS)
    assert "Stack(sw, task)" in notes.inner_text()
    rendered = page.locator("#ner-prediction").inner_text()
    for word in SENTENCE.split():
        assert word.strip(".") in rendered

    screenshot = tmp_path / "demo.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000
    kept = Path(__file__).parent / ".screenshots"  # ignored by git; kept for a look after a CI run
    kept.mkdir(exist_ok=True)
    shutil.copy(screenshot, kept / screenshot.name)
    assert outside == []  # no analytics, fonts or scripts from elsewhere


def test_a_bad_input_shows_a_message_on_the_page(browser, app):
    page = browser.new_page()
    page.goto(app.local_url)
    page.wait_for_selector("#ner-predict", timeout=TIMEOUT_MS)
    page.locator("#ner-text textarea").fill("𒀀𒀁𒀂 𒀃𒀄")
    page.locator("#ner-predict").click()
    page.get_by_text("a script the model never saw").first.wait_for(timeout=TIMEOUT_MS)
    page.locator("#ner-text textarea").fill(SENTENCE)  # and the page goes on answering
    page.locator("#ner-predict").click()
    page.locator("#ner-notes").get_by_text("Answered by").wait_for(timeout=TIMEOUT_MS)
