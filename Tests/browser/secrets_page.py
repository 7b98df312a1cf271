#!/usr/bin/env python3
"""The Secrets page in a real browser (headless Chromium driven by Selenium).

Starts `mage-vault serve` on a temporary data dir, opens the URL it prints, creates a
secret by typing a name and a value and pressing Enter, sees it listed, sees an error
shown inline, deletes the secret through the confirmation, and checks each step against
the vault with the command-line tool. Screenshots go to OUTPUT_DIR.

    python3 Tests/browser/secrets_page.py PATH/TO/mage-vault OUTPUT_DIR

Prints one line per check and `browser: N passed, M failed`; exits 1 when a check fails.
"""

import os
import shutil
import subprocess
import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

VALUE = "made-up-browser-value-7f3a"  # a test value, never a real secret


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, condition, what):
        if condition:
            self.passed += 1
            print(f"  ok    {what}")
        else:
            self.failed += 1
            print(f"  FAIL  {what}")


def tool(binary, data, *arguments):
    """Runs the command-line tool against the test's data dir."""
    return subprocess.run([binary, *arguments, "--data-dir", data], capture_output=True, text=True, timeout=30)


def start_server(binary, data):
    server = subprocess.Popen(
        [binary, "serve", "--port", "0", "--data-dir", data],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in server.stdout:
        if "http://" in line:
            return server, line.strip()
    raise RuntimeError("mage-vault serve printed no URL: " + server.stderr.read())


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1100,820",
                     "--disable-gpu", "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    return webdriver.Chrome(service=Service(executable_path=driver_path), options=options)


def main():
    binary, output = sys.argv[1], sys.argv[2]
    os.makedirs(output, exist_ok=True)
    data = tempfile.mkdtemp(prefix="magevault-browser-")
    checks = Checks()
    server, url = start_server(binary, data)
    driver = browser()
    wait = WebDriverWait(driver, 10)
    try:
        driver.get(url)
        wait.until(EC.presence_of_element_located((By.ID, "create-form")))
        checks.check("token=" not in driver.current_url, "the token is gone from the address bar after the first visit")
        checks.check(driver.execute_script("return document.cookie") == "", "the session cookie is HttpOnly (scripts cannot read it)")
        checks.check(driver.find_element(By.ID, "data-dir").text == data, "the page shows the data dir it serves")
        wait.until(EC.visibility_of_element_located((By.ID, "empty")))
        checks.check(True, "an empty vault says so")

        # Create: type a name and a value, press Enter.
        driver.find_element(By.ID, "secret-name").send_keys("db_password")
        value_field = driver.find_element(By.ID, "secret-value")
        value_field.send_keys(VALUE)
        value_field.send_keys(Keys.ENTER)
        row = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, 'tr[data-name="db_password"]')))
        checks.check("db_password" in row.text, "the new secret is listed after Enter")
        checks.check(driver.find_element(By.ID, "status").text == "Saved db_password.", "the page says it saved")
        checks.check(driver.find_element(By.ID, "secret-value").get_attribute("value") == "", "the value field is cleared")
        checks.check(VALUE not in driver.page_source, "the value appears nowhere in the page")
        got = tool(binary, data, "get", "db_password")
        checks.check(got.returncode == 0 and got.stdout == VALUE, "the vault holds the value typed")
        uuid = open(os.path.join(data, "secrets", "uuid")).read().strip()
        wait.until(EC.text_to_be_present_in_element((By.ID, "environment-uuid"), uuid))
        checks.check(True, "the environment's uuid is shown once created")
        driver.save_screenshot(os.path.join(output, "secrets-page-created.png"))

        # A bad name: the error is shown inline, nothing is written.
        before = open(os.path.join(data, "secrets", "vault.log"), "rb").read()
        # 200 characters (the field allows 255) but 400 bytes of UTF-8: more than a name may be.
        driver.find_element(By.ID, "secret-name").send_keys("\u00e9" * 200)
        driver.find_element(By.ID, "secret-value").send_keys("made-up-other" + Keys.ENTER)
        error = wait.until(EC.visibility_of_element_located((By.ID, "form-error")))
        checks.check("255 bytes" in error.text, "a refused name shows its error inline")
        checks.check(open(os.path.join(data, "secrets", "vault.log"), "rb").read() == before, "a refused save changes nothing")
        driver.save_screenshot(os.path.join(output, "secrets-page-error.png"))

        # Delete through the confirmation; Cancel first keeps it.
        row.find_element(By.CSS_SELECTOR, "button.delete").click()
        row.find_element(By.CSS_SELECTOR, "button.cancel-delete").click()
        checks.check(tool(binary, data, "get", "db_password").returncode == 0, "cancelling the confirmation keeps the secret")
        row.find_element(By.CSS_SELECTOR, "button.delete").click()
        confirm = row.find_element(By.CSS_SELECTOR, "button.confirm-delete")
        checks.check("Delete db_password?" in row.text, "deleting asks for confirmation")
        driver.save_screenshot(os.path.join(output, "secrets-page-confirm.png"))
        confirm.click()
        wait.until(EC.invisibility_of_element_located((By.CSS_SELECTOR, 'tr[data-name="db_password"]')))
        checks.check(driver.find_element(By.ID, "status").text == "Deleted db_password.", "the page says it deleted")
        checks.check(tool(binary, data, "get", "db_password").returncode == 1, "the vault no longer has the secret")
        driver.save_screenshot(os.path.join(output, "secrets-page-deleted.png"))

        problems = [entry["message"] for entry in driver.get_log("browser")
                    if entry["level"] == "SEVERE" and "the server answered" not in entry["message"]
                    and "400 (Bad Request)" not in entry["message"]]
        checks.check(not problems, "no script or Content-Security-Policy errors in the console" +
                     ("" if not problems else ": " + "; ".join(problems)))
    finally:
        driver.quit()
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(data, ignore_errors=True)

    print(f"screenshots in {output}")
    print(f"browser: {checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
