"""A dashboard screenshot with headless Chromium, logged in through Superset's login form.

Runs with .ci/venv-superset's Python (Selenium ships with Superset), Debian's chromium and chromedriver:
    python screenshot.py BASE_URL USER SLUG CHARTS OUT.png PROFILE_DIR   (password in env SCREENSHOT_PASSWORD)
prints the screenshot as the browser decodes it again: {"width", "height", "colours"} (JSON, last line).
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

RENDERED = ("[data-test=chart-container] canvas, [data-test=chart-container] svg, "
            "[data-test=chart-container] table")


def main(base: str, user: str, slug: str, charts: int, out: str, profile: str) -> None:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1600,1400", "--hide-scrollbars", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path="/usr/bin/chromedriver"))
    try:
        driver.get(f"{base}/login/")
        field = "input[name=username], #username"
        WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, field))
        driver.find_element(By.CSS_SELECTOR, field).send_keys(user)
        driver.find_element(By.CSS_SELECTOR, "input[name=password], #password").send_keys(
            os.environ["SCREENSHOT_PASSWORD"] + "\n")
        WebDriverWait(driver, 60).until(lambda d: "/login" not in d.current_url)
        driver.get(f"{base}/superset/dashboard/{slug}/?standalone=1")

        def ready(d):
            containers = d.find_elements(By.CSS_SELECTOR, "[data-test=chart-container]")
            drawn = {e.find_element(By.XPATH, "ancestor::*[@data-test='chart-container']").id
                     for e in d.find_elements(By.CSS_SELECTOR, RENDERED)}
            return len(containers) == charts and len(drawn) == charts
        # Charts re-render while they load: an element found a moment ago may be gone; look again.
        WebDriverWait(driver, 240, poll_frequency=2, ignored_exceptions=(StaleElementReferenceException,)).until(ready)
        time.sleep(4)  # the charts' entry animations
        errors = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".ant-alert-error, .alert-danger")]
        if errors:
            raise SystemExit(f"chart errors: {errors}")
        driver.save_screenshot(out)
        print(json.dumps(decoded(driver, out)))
    finally:
        driver.quit()


# The browser decodes the file it wrote: its size and how many colours it has (a blank page has one or two).
DECODE = """
const [source, done] = arguments;
const image = new Image();
image.onload = () => {
  const canvas = document.createElement("canvas");
  canvas.width = image.naturalWidth;
  canvas.height = image.naturalHeight;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
  const colours = new Set();
  for (let i = 0; i < data.length; i += 4) colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
  done({width: canvas.width, height: canvas.height, colours: colours.size});
};
image.onerror = () => done({error: "the browser cannot decode the screenshot"});
image.src = source;
"""


def decoded(driver, path: str) -> dict:
    driver.get("about:blank")
    driver.set_script_timeout(60)
    with open(path, "rb") as png:
        source = "data:image/png;base64," + base64.b64encode(png.read()).decode()
    return driver.execute_async_script(DECODE, source)


if __name__ == "__main__":
    base, user, slug, charts, out, profile = sys.argv[1:7]
    main(base, user, slug, int(charts), out, profile)
