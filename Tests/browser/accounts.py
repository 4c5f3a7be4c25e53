#!/usr/bin/env python3
"""Accounts and project roles over real HTTP and in a real browser (issue 23).

    python3 Tests/browser/accounts.py [CLEAVE_BINARY] [--artifacts DIR]     # default .build/release/cleave

1. `cleave user add/list/passwd/remove` as users type them (password on standard input; empty,
   short and duplicate refused with one line, nothing stored).
2. `cleave serve --host 0.0.0.0` with no account refuses to start with one line naming
   `cleave user add`; the same data directory on loopback still starts single-user.
3. A server with accounts on a free loopback port: 401 without a session, the cookie's flags,
   CSRF refusal, login rate limiting per client address (five wrong names, then even the right
   password waits: 429 + Retry-After), another group's tiles/jobs/export answer 404, logout,
   `cleave user passwd` ending sessions, the audit log.
4. Headless Chromium: the sign-in form appears; an annotator signs in, sees only her group's
   project, paints a stroke that is stored; a viewer sees why painting is not offered and cannot
   paint. Screenshots go to --artifacts.

Last line: "accounts: N passed, M failed". Every request has a timeout; servers are always stopped.
"""
import http.client
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import tifffile

from served import ServedCleave, Tally, free_port

args = [a for a in sys.argv[1:] if not a.startswith("--")]
BIN = os.path.realpath(args[0] if args else ".build/release/cleave")
ARTIFACTS = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--artifacts=")),
                 os.path.join(os.getcwd(), ".build", "accounts-artifacts"))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
PASSWORD = "correct horse battery"
check = Tally("accounts")


def cli(*arguments, stdin=""):
    result = subprocess.run([BIN, *arguments], input=stdin, capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout, result.stderr


def new_server(data, extra=()):
    """The server under test: single process, one job worker, the page from this checkout."""
    return ServedCleave(BIN, data, ["--jobs", "1", *extra], probe="/api/openapi.json",
                        env={"CLEAVE_WEB_DIR": os.path.join(ROOT, "Web")}, name="accounts")


class Who:
    """A signed-in client: the session cookie and the CSRF token."""
    def __init__(self, cookie=None, csrf=None):
        self.cookie, self.csrf = cookie, csrf


def request(server, method, path, body=None, who=None, csrf=True, content_type="application/json", headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    fields = {"X-Cleave-User": "accounts-test-user"}
    if body is not None:
        fields["Content-Type"] = content_type
    if who and who.cookie:
        fields["Cookie"] = f"cleave_session={who.cookie}"
    if who and csrf and who.csrf:
        fields["X-CSRF-Token"] = who.csrf
    fields.update(headers or {})
    data = body if isinstance(body, (bytes, bytearray)) else (None if body is None else json.dumps(body).encode())
    connection.request(method, path, body=data, headers=fields)
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    try:
        parsed = json.loads(payload) if payload and "json" in (response.getheader("Content-Type") or "") else payload
    except ValueError:
        parsed = payload
    return response.status, parsed, response


def sign_in(server, name, password=PASSWORD):
    status, body, response = request(server, "POST", "/api/session", {"name": name, "password": password})
    if status != 200:
        return status, None, response
    cookie = response.getheader("Set-Cookie").split(";")[0].split("=", 1)[1]
    return status, Who(cookie, body["csrfToken"]), response


def tile_bytes():
    image = (np.add.outer(np.arange(96), np.arange(128)) * 40).astype(np.uint16)
    image[30:60, 40:80] = 4000
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, image)
    return buffer.getvalue()


scratch = tempfile.mkdtemp(prefix="cleave-accounts-")
servers = []
try:
    data = os.path.join(scratch, "data")
    os.makedirs(data)

    # ---- 1. the command line ----
    code, out, err = cli("user", "add", "ada", "--admin", "--data", data, stdin="")
    check(code != 0 and len(err.strip().splitlines()) == 1 and "standard input" in err, f"empty standard input refused in one line: {err.strip()!r}")
    code, out, err = cli("user", "add", "ada", "--admin", "--data", data, stdin="short\n")
    check(code != 0 and len(err.strip().splitlines()) == 1 and "too short" in err, f"short password refused in one line: {err.strip()!r}")
    code, out, err = cli("user", "list", "--data", data)
    check(code == 0 and "no accounts" in out, "nothing was stored by the refused adds")

    # ---- 2. no accounts: loopback only ----
    refused = subprocess.run([BIN, "serve", "--host", "0.0.0.0", "--port", str(free_port()), "--data", data],
                             capture_output=True, text=True, timeout=30)
    lines = refused.stderr.strip().splitlines()
    check(refused.returncode != 0 and len(lines) == 1 and "cleave user add" in lines[0] and "0.0.0.0" in lines[0],
          f"--host 0.0.0.0 without accounts refused in one line: {refused.stderr.strip()!r}")
    single = new_server(data)
    servers.append(single)
    single.start()
    status, body, _ = request(single, "GET", "/api/projects")
    check(status == 200, "single-user mode on loopback needs no login")
    status, body, _ = request(single, "GET", "/api/session")
    check(status == 200 and body.get("accounts") is False, "single-user mode says it has no accounts")
    single.stop()

    for name, admin in [("ada", True), ("anna", False), ("vic", False), ("olga", False)]:
        code, out, err = cli("user", "add", name, *(["--admin"] if admin else []), "--data", data, stdin=PASSWORD + "\n")
        check(code == 0 and f"added {name}" in out, f"cleave user add {name}: {out.strip() or err.strip()}")
    code, out, err = cli("user", "add", "ADA", "--data", data, stdin=PASSWORD + "\n")
    check(code != 0 and "already exists" in err and len(err.strip().splitlines()) == 1, f"a taken name is refused: {err.strip()!r}")
    code, out, err = cli("user", "list", "--data", data)
    check(code == 0 and [line.split("\t")[:2] for line in out.strip().splitlines()]
          == [["ada", "admin"], ["anna", "user"], ["olga", "user"], ["vic", "user"]], f"cleave user list: {out.strip()!r}")

    # ---- 3. the server with accounts ----
    server = new_server(data)
    servers.append(server)
    server.start()
    status, body, _ = request(server, "GET", "/api/projects")
    check(status == 401, f"GET /api/projects without a session: {status}")
    status, body, _ = request(server, "GET", "/")
    check(status == 200, "the page itself needs no session (it shows the sign-in form)")
    status, ada, response = sign_in(server, "ada")
    cookie = response.getheader("Set-Cookie") or ""
    flags = {part.strip() for part in cookie.split(";")[1:]}
    check(status == 200 and flags == {"Path=/", "HttpOnly", "SameSite=Strict"}, f"session cookie flags: {cookie.split(';', 1)[-1].strip()!r}")

    # CSRF: the session alone does not change anything.
    status, body, _ = request(server, "POST", "/api/projects", {"name": "Alpha"}, who=ada, csrf=False)
    check(status == 403 and "X-CSRF-Token" in body.get("error", ""), f"POST without X-CSRF-Token refused: {status}")
    status, body, _ = request(server, "POST", "/api/projects", {"name": "Alpha"}, who=Who(ada.cookie, "0" * 64))
    check(status == 403, "POST with a wrong X-CSRF-Token refused")
    status, projects, _ = request(server, "GET", "/api/projects", who=ada)
    check(status == 200 and projects["projects"] == [], "nothing was created by the refused requests")
    status, alpha, _ = request(server, "POST", "/api/projects", {"name": "Alpha"}, who=ada)
    check(status == 201 and alpha.get("role") == "owner", "the creator of a project is its owner")
    status, image, _ = request(server, "POST", f"/api/projects/{alpha['id']}/images?name=alpha.tif", tile_bytes(), who=ada,
                               content_type="application/octet-stream")
    check(status == 201, f"upload as the owner: {status}")
    for name in ["stone", "pore"]:
        request(server, "POST", f"/api/projects/{alpha['id']}/classes", {"name": name}, who=ada)
    request(server, "POST", f"/api/projects/{alpha['id']}/members", {"name": "anna", "role": "annotator"}, who=ada)
    status, member, _ = request(server, "POST", f"/api/projects/{alpha['id']}/members", {"name": "vic", "role": "viewer"}, who=ada)
    check(status == 200 and member.get("role") == "viewer", "the owner adds members")
    status, olga, _ = sign_in(server, "olga")
    status, beta, _ = request(server, "POST", "/api/projects", {"name": "Beta"}, who=olga)

    # Another group guessing Alpha's ids: tiles, the image, jobs, the export, events.
    status, job, _ = request(server, "POST", f"/api/images/{image['id']}/cluster",
                             {"sessionId": "accounts-session", "mode": "grid", "gridRows": 4, "gridColumns": 4, "clusterCount": 2}, who=ada)
    check(status == 202, f"the owner starts a clustering job: {status}")
    for method, path in [("GET", f"/api/images/{image['id']}/tiles/0/0/0.png"), ("GET", f"/api/images/{image['id']}"),
                         ("GET", f"/api/jobs/{job['id']}"), ("GET", f"/api/jobs/{job['id']}/events"),
                         ("POST", f"/api/projects/{alpha['id']}/export"), ("GET", f"/api/projects/{alpha['id']}/images")]:
        status, body, response = request(server, method, path, {"sessionId": "accounts-session"} if method == "POST" else None, who=olga)
        shown = json.dumps(body) if isinstance(body, dict) else repr(body)
        check(status == 404 and "image/png" not in (response.getheader("Content-Type") or "") and "alpha" not in shown.lower(),
              f"another group guessing {method} {path.split('/', 3)[3].replace(image['id'], '{imageId}').replace(job['id'], '{jobId}').replace(alpha['id'], '{projectId}')}: {status}")
    status, jobs, _ = request(server, "GET", "/api/jobs", who=olga)
    check(status == 200 and jobs["jobs"] == [], "another group's job list is empty")
    status, body, _ = request(server, "GET", f"/api/projects", who=olga)
    check([p["name"] for p in body["projects"]] == ["Beta"], "olga sees only her project")

    # Rate limiting per client address: five wrong names, then even ada's right password waits.
    for attempt in range(5):
        status, _, _ = sign_in(server, f"nobody{attempt}", "wrong password")
    status, _, response = sign_in(server, "ada")
    retry = response.getheader("Retry-After")
    check(status == 429 and retry == "1", f"after five failures from one address: {status}, Retry-After {retry}")
    time.sleep(float(retry or 1) + 0.1)
    status, _, _ = sign_in(server, "ada")
    check(status == 200, "after the wait the right password works again")

    # Logout ends the session.
    status, throwaway, _ = sign_in(server, "ada")
    status, body, response = request(server, "DELETE", "/api/session", who=throwaway)
    check(status == 200 and "Max-Age=0" in (response.getheader("Set-Cookie") or ""), "logout clears the cookie")
    status, _, _ = request(server, "GET", "/api/projects", who=throwaway)
    check(status == 401, "the logged-out session no longer works")

    # cleave user passwd ends the account's sessions (while the server runs).
    status, vic_old, _ = sign_in(server, "vic")
    code, out, err = cli("user", "passwd", "vic", "--data", data, stdin="another long password\n")
    status, _, _ = request(server, "GET", "/api/projects", who=vic_old)
    check(code == 0 and status == 401, "cleave user passwd ends the running server's sessions of that account")
    check(sign_in(server, "vic")[0] == 401 and sign_in(server, "vic", "another long password")[0] == 200, "the new password works, the old one not")

    # The audit log: exports and deletions, readable by admins only.
    status, _, _ = request(server, "POST", f"/api/projects/{alpha['id']}/export", {"sessionId": "accounts-session"}, who=ada)
    status, audit, _ = request(server, "GET", "/api/audit", who=ada)
    actions = [(entry["user"], entry["action"]) for entry in audit.get("audit", [])]
    check(("ada", "export.project") in actions and ("local", "user.passwd") in actions, f"audit: {actions[:4]}")
    check(request(server, "GET", "/api/audit", who=olga)[0] == 403, "only admins read the audit")

    # Backup while strokes are being painted, restore, serve the copy: the accounts and every
    # stroke acknowledged before the backup began are there.
    import threading
    acknowledged, stop = [], threading.Event()

    def paint_loop():
        index = 0
        while not stop.is_set() and index < 2000:
            status, body, _ = request(server, "POST", f"/api/images/{image['id']}/strokes",
                                      {"sessionId": "accounts-session", "class": 1, "radius": 2, "points": [[index % 90, 5], [5, index % 90]]}, who=ada)
            if status == 201:
                acknowledged.append(body["id"])
            index += 1

    painter = threading.Thread(target=paint_loop)
    painter.start()
    while len(acknowledged) < 20 and painter.is_alive():
        time.sleep(0.01)
    before = list(acknowledged)
    backup_dir = os.path.join(scratch, "backup")
    code, out, err = cli("backup", "--data", data, "--out", backup_dir)
    stop.set()
    painter.join(60)
    check(code == 0 and "1 image files" in out, f"cleave backup while strokes are painted: {out.strip() or err.strip()}")
    code, out, err = cli("backup", "--data", data, "--out", backup_dir)
    check(code != 0 and "already exists" in err and len(err.strip().splitlines()) == 1, "a backup never overwrites")
    restored = os.path.join(scratch, "restored")
    code, out, err = cli("restore", backup_dir, "--data", restored)
    check(code == 0, f"cleave restore: {out.strip() or err.strip()}")
    copy = new_server(restored)
    servers.append(copy)
    copy.start()
    status, ada_copy, _ = sign_in(copy, "ada")
    status, strokes, _ = request(copy, "GET", f"/api/images/{image['id']}/strokes", who=ada_copy)
    restored_ids = {stroke["id"] for stroke in strokes.get("strokes", [])} if status == 200 else set()
    check(set(before) <= restored_ids <= set(acknowledged),
          f"the restored server has the accounts and all {len(before)} strokes acknowledged before the backup ({len(restored_ids)} of {len(acknowledged)})")
    status, tile, response = request(copy, "GET", f"/api/images/{image['id']}/tiles/0/0/0.png", who=ada_copy)
    check(status == 200 and response.getheader("Content-Type") == "image/png", "the restored image serves tiles")
    copy.stop()
    baseline = len(request(server, "GET", f"/api/images/{image['id']}/strokes", who=ada)[1]["strokes"])

    # ---- 4. the page in headless Chromium ----
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    os.makedirs(ARTIFACTS, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for flag in ["--headless=new", "--disable-gpu", "--window-size=1400,900", "--disable-dev-shm-usage", "--no-first-run",
                 "--password-store=basic"]:
        options.add_argument(flag)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")
    driver = webdriver.Chrome(options=options, service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")))
    driver.set_page_load_timeout(60)
    try:
        wait = lambda condition, timeout=30: WebDriverWait(driver, timeout, poll_frequency=0.1,
                                                           ignored_exceptions=(StaleElementReferenceException,)).until(lambda d: condition())
        el = lambda element_id: driver.find_element(By.ID, element_id)
        js = driver.execute_script

        def browser_sign_in(name, password=PASSWORD):
            wait(lambda: el("sign-in").is_displayed())
            el("sign-in-name").clear(); el("sign-in-name").send_keys(name)
            el("sign-in-password").clear(); el("sign-in-password").send_keys(password)
            el("sign-in-button").click()
            wait(lambda: not el("sign-in").is_displayed() and el("account").is_displayed())

        base = f"http://127.0.0.1:{server.port}/"
        driver.get(base)
        wait(lambda: el("sign-in").is_displayed())
        driver.save_screenshot(os.path.join(ARTIFACTS, "01-sign-in.png"))
        check(True, "the page shows the sign-in form when the server says 401")
        el("sign-in-name").send_keys("anna"); el("sign-in-password").send_keys("wrong password"); el("sign-in-button").click()
        wait(lambda: "wrong name or password" in el("sign-in-status").text)
        check(True, "a wrong password is said on the form")
        browser_sign_in("anna")
        check("anna" in el("account-name").text, f"who is signed in: {el('account-name').text!r}")
        wait(lambda: js("return !!(window.cleave && cleave.state.image && cleave.viewer.scale)"))
        names = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#projects li")]
        check(names == ["Alpha"], f"the annotator sees her group's project only: {names}")
        # Renaming an image is an annotator's, deleting it and renaming or deleting the project an owner's.
        offered = js("""const shown = (selector) => [...document.querySelectorAll(selector)].map((e) => getComputedStyle(e).display !== 'none');
                         return {imageRename: shown('#images li.active .item-actions button.rename'),
                                 imageDelete: shown('#images li.active .item-actions button.delete'),
                                 project: shown('#projects li .item-actions button'),
                                 classDelete: shown('#classes li button.delete')}""")
        check(offered["imageRename"] == [True] and offered["imageDelete"] == [False] and offered["project"] == []
              and not any(offered["classDelete"]), f"an annotator may rename images, not delete them or the project: {offered}")
        status, _, _ = request(server, "DELETE", f"/api/images/{image['id']}", who=sign_in(server, "anna")[1])
        check(status == 403, f"the server refuses an annotator's image deletion too: {status}")
        js("document.activeElement && document.activeElement.blur()")
        ActionChains(driver).send_keys("b").perform()
        wait(lambda: js("return cleave.state.tool") == "brush")
        canvas = el("canvas")
        chain = ActionChains(driver, duration=20)
        chain.move_to_element_with_offset(canvas, -20, -10).click_and_hold().move_by_offset(30, 5).move_by_offset(20, 10).release().perform()
        wait(lambda: js("return cleave.viewer.strokes.filter((s) => !s.pending).length") == baseline + 1)
        status, strokes, _ = request(server, "GET", f"/api/images/{image['id']}/strokes", who=ada)
        check(status == 200 and len(strokes["strokes"]) == baseline + 1, "the annotator's stroke is stored")
        driver.save_screenshot(os.path.join(ARTIFACTS, "02-annotator-painted.png"))
        # "My recorded events" names the account's pseudonym (what its events carry), never its name.
        status, anna, _ = sign_in(server, "anna")
        status, session, _ = request(server, "GET", "/api/session", who=anna)
        pseudonym = session["user"]["pseudonym"] if status == 200 else None
        el("my-data-button").click()
        wait(lambda: el("my-data").is_displayed() and "stroke" in el("my-data-summary").text)
        shown = el("my-user-id").text
        check(bool(pseudonym) and shown == pseudonym and "anna" not in shown,
              f"My recorded events shows the account's pseudonym: {shown!r}, session says {pseudonym!r}")
        el("my-data-close").click()
        wait(lambda: not el("my-data").is_displayed())
        el("sign-out").click()
        wait(lambda: el("sign-in").is_displayed())
        check(True, "sign out brings back the sign-in form")

        browser_sign_in("vic", "another long password")
        wait(lambda: js("return !!(window.cleave && cleave.state.project)") and el("role-note").is_displayed())
        note = el("role-note").text
        brush = driver.find_element(By.CSS_SELECTOR, '.tool[data-tool="brush"]')
        correct_tool = driver.find_element(By.CSS_SELECTOR, '.tool[data-tool="correct"]')
        check("viewer" in note and not brush.is_enabled() and not correct_tool.is_enabled(), f"the viewer is told: {note!r}")
        hidden = js("""return ['dropzone', 'update-once', 'cluster-run', 'new-class', 'undo', 'predict-all', 'correct-mode', 'roi-outside', 'pixel-size', 'guide-steps']
                         .map((id) => document.getElementById(id)).map((e) => getComputedStyle(e.closest('[data-needs]')).display)""")
        renames = js("return [...document.querySelectorAll('#images li .item-actions button, #classes li button')].map((e) => getComputedStyle(e).display)")
        check(renames and set(renames) == {"none"}, f"a viewer is offered no rename or delete: {renames}")
        check(hidden == ["none"] * 10, f"upload, training, clustering, classes, undo, batch prediction, corrections, the ROI's settings, the pixel size and the step guide are not offered to a viewer: {hidden}")
        js("document.activeElement && document.activeElement.blur()")
        ActionChains(driver).send_keys("b").perform()
        wait(lambda: "annotator" in el("status").text)
        check(js("return cleave.state.tool") != "brush", f"pressing B says why: {el('status').text!r}")
        ActionChains(driver, duration=20).move_to_element_with_offset(el("canvas"), 10, 10).click_and_hold().move_by_offset(30, 0).release().perform()
        time.sleep(0.5)
        status, strokes, _ = request(server, "GET", f"/api/images/{image['id']}/strokes", who=ada)
        check(len(strokes["strokes"]) == baseline + 1, "the viewer's drag stored no stroke")
        # The ROI tool shows the region, but a viewer's click adds no vertex and says why.
        ActionChains(driver).send_keys("r").perform()
        wait(lambda: js("return cleave.state.tool") == "roi")
        ActionChains(driver).move_to_element_with_offset(el("canvas"), 5, 5).click().perform()
        wait(lambda: "region of interest needs the annotator role" in el("status").text)
        check("Drawing" not in el("roi-status").text, f"the viewer's click drew nothing: {el('roi-status').text!r}")
        driver.save_screenshot(os.path.join(ARTIFACTS, "03-viewer.png"))
    finally:
        driver.quit()
finally:
    for server in servers:
        server.stop()
    shutil.rmtree(scratch, ignore_errors=True)

sys.exit(check.summary())
