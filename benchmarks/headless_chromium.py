"""Debian's Chromium, headless, driven by Selenium through Debian's chromedriver: the browser the camera
page's test and screenshot use.  `make test` installs both packages where it can (see the Makefile);
Selenium is told where they are, so it never tries to download a browser or a driver."""

from __future__ import annotations

import shutil
from contextlib import contextmanager


class ChromiumMissing(RuntimeError):
    pass


def chromium_paths() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (browser and driver):
        raise ChromiumMissing("Chromium and chromedriver are not installed: apt install chromium chromium-driver "
                              "(make test does it where it runs as root)")
    return browser, driver


@contextmanager
def headless_chromium(width: int = 480, height: int = 900):
    """A Selenium WebDriver for a headless Chromium window of width x height CSS pixels."""
    browser, driver = chromium_paths()
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        raise ChromiumMissing("selenium is not installed: pip install -e '.[dev]'") from None
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    # --no-sandbox: the sandbox needs user namespaces, which containers and root sessions often lack.
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--hide-scrollbars", f"--window-size={width},{height}"):
        options.add_argument(argument)
    session = webdriver.Chrome(options=options, service=Service(driver))
    try:
        yield session
    finally:
        session.quit()
