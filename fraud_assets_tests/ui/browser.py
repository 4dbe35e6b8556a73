"""Headless Chromium (Debian's `chromium` + `chromium-driver`) driven by Selenium.

The driver path is given explicitly, so Selenium never tries to download a browser or a
driver (nothing can be downloaded here). Screenshots go to FRAUD_TEST_ARTIFACTS (default
/tmp/fraud-assets-artifacts), kept after the run as test artifacts.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def artifacts_dir() -> Path:
    path = Path(os.environ.get("FRAUD_TEST_ARTIFACTS") or "/tmp/fraud-assets-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def browser_missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).exists() or shutil.which(Path(path).name)):
            return f"{path} not found: bin/setup installs Debian's chromium and chromium-driver"
    return None


@contextmanager
def headless_chromium(width: int = 1600, height: int = 1000) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",  # tests run as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: webdriver.Chrome, name: str) -> Path:
    path = artifacts_dir() / f"{name}.png"
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path


def page_text(driver: webdriver.Chrome) -> str:
    return driver.find_element(By.TAG_NAME, "body").text


def shown(text: str, body: str) -> bool:
    """`text` is on the page, whole or as the graph draws a long name in a small node: cut
    in the middle (`post…_transactions`), at least 8 of its characters kept."""
    if text in body:
        return True
    for line in body.splitlines():
        head, cut, tail = line.strip().partition("\u2026")
        if cut and len(head) + len(tail) >= 8 and text.startswith(head) and text.endswith(tail):
            return True
    return False


def wait_for_text(
    driver: webdriver.Chrome, texts: list[str], timeout: float, reload_every: float = 0
) -> str:
    """Poll the page until every one of `texts` is shown; optionally reload while waiting
    (for pages that do not live-update). Returns the page text."""
    deadline = time.monotonic() + timeout
    last_reload = time.monotonic()
    body = ""
    while time.monotonic() < deadline:
        try:
            body = page_text(driver)
        except WebDriverException:
            body = ""
        if all(shown(t, body) for t in texts):
            return body
        if reload_every and time.monotonic() - last_reload > reload_every:
            driver.refresh()
            last_reload = time.monotonic()
        time.sleep(0.5)  # polling interval
    missing = [t for t in texts if not shown(t, body)]
    raise AssertionError(f"not shown within {timeout:.0f}s: {missing}\n--- page ---\n{body[:3000]}")


def dismiss_community_popup(driver: webdriver.Chrome) -> None:
    """The UI greets a first visitor with a community/newsletter dialog: close it if shown."""
    for button in driver.find_elements(By.XPATH, "//div[contains(@class,'bp5-dialog')]//button"):
        label = (button.text or button.get_attribute("aria-label") or "").strip().lower()
        if label in {"dismiss", "close", "no thanks", "skip", "not now"}:
            button.click()
            return
