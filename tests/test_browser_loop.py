"""The whole loop in ONE browser session, never reloading and never typing a name a picker should offer.

corpus → SFT data → SFT on the demo model → the new version in Models and the arena → a vote → the leaderboard
moves → the next DPO round from the newest version → chat with the result.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from llmops.runner.store import JobStore

from .test_browser import app_page, pytestmark  # noqa: F401 - the same skip rule
from .test_browser_live import dropdown_input, options_when

LONG = 240_000  # ms: a real training on a busy 2-core machine


def pick(page, label: str, option: str) -> None:
    """Choose `option` in the visible dropdown labelled `label`, by clicking, as a person would."""
    dropdown_input(page, label).click()
    page.get_by_role("option", name=option).first.click()
    page.keyboard.press("Tab")


def wait_for_option(page, label: str, option: str) -> None:
    """The live refresh brings new choices within a tick or two; a person would glance again."""
    options = options_when(page, label, {option})
    assert option in options, f"{option!r} never offered in {label!r}: {options}"


def visible_text(page, pattern) -> str:
    """Wait for text matching `pattern` to be visible and return it."""
    found = page.get_by_text(pattern).filter(visible=True).first
    found.wait_for(timeout=LONG)
    return found.inner_text()


def wait_for_completed_line(page, settings, errors: list[str], shot) -> None:
    """The jobs panel's status line turns COMPLETED; if it never does, say what the job table and the page held."""
    line = page.get_by_text(re.compile(r"^sft-demo\S*\s+·\s+\S+\s+·\s+COMPLETED$")).filter(visible=True).first
    try:
        line.wait_for(timeout=LONG)
    except PlaywrightTimeout:
        jobs = [(job.id, job.name, job.status.value) for job in JobStore(settings.jobs_db_path).list(10)]
        shown = page.get_by_text(re.compile(r"^sft-demo\S*\s+·")).all_inner_texts()
        page.screenshot(path=str(shot), full_page=True)
        pytest.fail(f"no COMPLETED status line; job table: {jobs}; status lines on the page: {shown}; "
                    f"page errors: {errors[-10:]}; screenshot: {shot}")


@pytest.mark.timeout(900)
def test_the_whole_loop_in_one_browser_session(settings, app_factory, tmp_path):
    with app_page(app_factory(), height=1200) as page:
        errors: list[str] = []  # what the page's own scripts reported, for a failure's message
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        # 1. A corpus from the shipped documents, then instruction data from it.
        page.get_by_role("tab", name="Data", exact=True).click()  # the dashboard is the first tab
        page.get_by_role("tab", name="Domain corpus").click()
        page.get_by_role("button", name="Build corpus").click()
        corpus_line = visible_text(page, re.compile(r"registered for pre-training"))
        corpus_name = re.search(r"Corpus '([^']+)'", corpus_line).group(1)
        page.get_by_role("tab", name="Instruction data").click()
        wait_for_option(page, "Corpus", corpus_name)
        assert page.get_by_label("Corpus", exact=True).filter(visible=True).first.input_value() == corpus_name
        page.get_by_role("button", name="Generate", exact=True).click()
        sft_line = visible_text(page, re.compile(r"question/answer pairs written"))
        sft_name = re.search(r"registered as '([^']+)'", sft_line).group(1)

        # 2. SFT on the demo model with the new data, picked from the picker.
        page.get_by_role("tab", name="Training", exact=True).click()
        page.get_by_role("tab", name="SFT (instruction tuning)").click()
        wait_for_option(page, "Datasets", sft_name)
        pick(page, "Datasets", sft_name)
        steps = page.get_by_label("Max steps (0 = by epochs)").filter(visible=True).first
        steps.fill("6")
        page.get_by_role("button", name="Launch").filter(visible=True).first.click()
        # The jobs panel selects the launched run; its status line reads "name · id · STATUS".
        wait_for_completed_line(page, settings, errors, tmp_path / "no-completed.png")

        # 3. The new version shows in the Models tab and the arena by itself.
        page.get_by_role("tab", name="Models & loop", exact=True).click()
        page.get_by_text("demo@v1.1").filter(visible=True).first.wait_for(timeout=30_000)
        page.get_by_role("tab", name="A/B arena", exact=True).click()
        wait_for_option(page, "Model 1", "demo@v1.1")
        pick(page, "Model 1", "demo@v1.1")
        pick(page, "Model 2", "demo@v1.0")
        page.get_by_label("Prompt", exact=True).fill("逆变器报 F012 怎么办？")
        page.get_by_role("button", name="Generate both answers").click()
        # A person votes once the page says both answers are in (a second click would only report the duplicate).
        visible_text(page, "Both answers are ready: vote.")
        page.get_by_role("button", name=re.compile(r"Left.*better|A is better")).first.click()
        visible_text(page, re.compile("saved to prefs.jsonl"))

        # 4. The leaderboard moved: both versions are ranked, from this one human vote.
        page.get_by_role("tab", name="Leaderboard", exact=True).click()
        page.get_by_text("demo@v1.1").filter(visible=True).first.wait_for(timeout=30_000)
        page.get_by_text("demo@v1.0").filter(visible=True).first.wait_for(timeout=5_000)

        # 5. The next DPO round starts from the newest version, which the picker already shows.
        page.get_by_role("tab", name="Models & loop", exact=True).click()
        base = page.get_by_label("Current version (base of the round)", exact=True).filter(visible=True).first
        assert base.input_value() == "demo@v1.1"
        page.get_by_role("button", name="Start next DPO round (review config)").click()
        visible_text(page, re.compile(r"preference pairs exported"))
        page.get_by_role("button", name="Launch round").click()
        visible_text(page, re.compile(r"Registered\s+demo@v1\.2"))

        # 6. Chat with the result.
        page.get_by_role("tab", name="Chat", exact=True).click()
        wait_for_option(page, "Model", "demo@v1.2")
        pick(page, "Model", "demo@v1.2")
        message = page.get_by_role("textbox", name=re.compile("^Message")).filter(visible=True).first
        message.fill("光伏电站巡检要看什么？")
        message.press("Enter")
        visible_text(page, re.compile(r"demo@v1\.2\s+answered in"))
        page.screenshot(path=str(tmp_path / "loop.png"), full_page=True)
    lines = settings.prefs_path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and "demo@v1.1" in lines[0]
