#!/usr/bin/env python3
"""End-to-end test of the Cleave workbench in a real browser (headless Chromium driven by Selenium).

Run by Tests/browser/e2e.sh, which starts `cleave serve` on a free loopback port with a scratch data
directory and writes a `cleave sample` tile. This script plays a microscopist's session through
the page only (create a project, upload through the upload control, cluster, pick and name a
cluster, merge, add two classes, paint, undo, train and predict, find objects, accept, export,
look at "my data"), then checks behind the page: the events in the SQLite database, the reference
labels derived from them (provenance 2 = painted, 1 = accepted result, strokes undone within a few
seconds discarded) and the exported files (unzipped and read). Screenshots of every step go to
the artifacts directory. Features whose routes this server does not have are reported as skipped.

Last line: "browser: N passed, M failed[, S skipped (…)]".
"""
import argparse
import csv
import hashlib
import io
import json
import os
import sqlite3
import sys
import time
import traceback
import urllib.error
import urllib.request
import zipfile

import numpy as np
import tifffile
from scipy import ndimage
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

parser = argparse.ArgumentParser()
parser.add_argument("--base", required=True, help="http://127.0.0.1:PORT")
parser.add_argument("--data", required=True, help="the server's data directory")
parser.add_argument("--tile", required=True, help="a 16-bit sample tile to upload")
parser.add_argument("--truth", required=True, help="its particle mask (255 = particle)")
parser.add_argument("--artifacts", required=True, help="screenshots and downloads go here")
parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for any one step")
args = parser.parse_args()

downloads = os.path.join(args.artifacts, "downloads")
os.makedirs(downloads, exist_ok=True)
results = []          # (name, "pass"|"fail"|"skip", detail)
shot_number = [0]


def log(text):
    print(text, flush=True)


# ---------- HTTP helpers (the API as the test sees it) ----------

def http(method, path, body=None, user=None, raw=False):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(args.base + path, data=data, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if user:
        request.add_header("X-Cleave-User", user)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = response.read()
            if raw or not payload:
                return response.status, payload if raw else None
            try:
                return response.status, json.loads(payload)
            except ValueError:
                return response.status, payload
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            return error.code, json.loads(payload)
        except ValueError:
            return error.code, {"error": payload.decode(errors="replace")}


def route_exists(method, path, body=None):
    status, payload = http(method, path, body, user="e2e-probe-user")
    return not (status == 404 and isinstance(payload, dict) and str(payload.get("error", "")).startswith("no route for"))


# ---------- browser ----------

options = webdriver.ChromeOptions()
options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
for flag in ["--headless=new", "--disable-gpu", "--window-size=1500,950", "--disable-dev-shm-usage",
             "--no-first-run", "--password-store=basic", "--disable-features=Translate"]:
    options.add_argument(flag)
if os.geteuid() == 0:
    options.add_argument("--no-sandbox")
options.add_experimental_option("prefs", {"download.default_directory": downloads, "download.prompt_for_download": False,
                                          "safebrowsing.enabled": False})
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(options=options, service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")))
driver.set_page_load_timeout(args.timeout)
driver.set_script_timeout(args.timeout)


def shot(name):
    shot_number[0] += 1
    path = os.path.join(args.artifacts, f"{shot_number[0]:02d}-{name}.png")
    driver.save_screenshot(path)
    return path


def wait_for(condition, what, timeout=None):
    try:
        return WebDriverWait(driver, timeout or args.timeout, poll_frequency=0.1,
                             ignored_exceptions=(StaleElementReferenceException,)).until(lambda d: condition())
    except TimeoutException:
        raise AssertionError(f"timed out waiting for {what}; status line: {text('status')!r}") from None


def el(element_id):
    return driver.find_element(By.ID, element_id)


def text(element_id):
    try:
        return el(element_id).text
    except Exception:
        return ""


def js(script, *arguments):
    return driver.execute_script(script, *arguments)


def key(keys):
    """Presses keys on the page itself (not in whatever input has the focus)."""
    js("document.activeElement && document.activeElement.blur()")
    ActionChains(driver).send_keys(keys).perform()


def set_value(element_id, value):
    element = el(element_id)
    element.clear()
    element.send_keys(str(value))


class Skip(Exception):
    pass


def step(name, needs=()):
    """Runs a test step; a failure is recorded with its message and a screenshot."""
    def wrap(function):
        missing = [feature for feature in needs if not features.get(feature, True)]
        if missing:
            results.append((name, "skip", "server lacks " + ", ".join(missing)))
            log(f"  skip  {name}: server lacks {', '.join(missing)}")
            return function
        started = time.time()
        try:
            function()
            results.append((name, "pass", ""))
            log(f"  pass  {name} ({time.time() - started:.1f} s)")
        except Skip as reason:
            results.append((name, "skip", str(reason)))
            log(f"  skip  {name}: {reason}")
        except Exception as error:
            detail = f"{type(error).__name__}: {error}"
            results.append((name, "fail", detail))
            log(f"  FAIL  {name}: {detail}")
            if not isinstance(error, AssertionError):
                traceback.print_exc()
            try:
                shot(f"FAILED-{name.replace(' ', '-')}")
            except Exception:
                pass
        return function
    return wrap


# ---------- the session ----------

ctx = {}
features = {}
tile_bytes = open(args.tile, "rb").read()
truth = tifffile.imread(args.truth) > 0
tile_name = os.path.basename(args.tile)
log(f"e2e: {args.base}, tile {tile_name} ({truth.shape[1]}×{truth.shape[0]}), artifacts in {args.artifacts}")


def to_screen(x, y):
    """Image pixel → offset from the canvas centre (what ActionChains wants)."""
    return js("""const v = cleave.viewer, c = v.canvas;
                 return [(arguments[0] - v.originX) * v.scale - c.clientWidth / 2,
                         (arguments[1] - v.originY) * v.scale - c.clientHeight / 2];""", float(x), float(y))


def paint(points):
    canvas = el("canvas")
    chain = ActionChains(driver, duration=20)
    sx, sy = to_screen(*points[0])
    chain.move_to_element_with_offset(canvas, int(sx), int(sy)).click_and_hold()
    previous = (int(sx), int(sy))
    for x, y in points[1:]:
        sx, sy = to_screen(x, y)
        chain.move_by_offset(int(sx) - previous[0], int(sy) - previous[1])
        previous = (int(sx), int(sy))
    chain.release().perform()


def saved_strokes():
    return js("return cleave.viewer.strokes.filter((s) => !s.pending).length")


def wait_overlay(name):
    wait_for(lambda: js("const o = cleave.viewer.overlays.get(arguments[0]); return !!(o && o.loaded && o.visible)", name),
             f"the {name} overlay")
    time.sleep(0.1)


def click_image(x, y):
    sx, sy = to_screen(x, y)
    ActionChains(driver).move_to_element_with_offset(el("canvas"), int(sx), int(sy)).click().perform()


driver.get(args.base + "/")


@step("page loads without script errors")
def _():
    wait_for(lambda: js("return window.cleave && window.cleave.ready === true"), "the page's modules")
    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, f"console errors: {errors}"
    ctx["user"] = js("return localStorage.getItem('cleave.user')")
    assert ctx["user"] and "@" not in ctx["user"], f"pseudonymous user id, got {ctx['user']!r}"
    shot("start")


@step("create a project through the form")
def _():
    set_value("project-name", "e2e sandstone")
    el("project-name").send_keys(Keys.ENTER)
    wait_for(lambda: any(li.text.startswith("e2e sandstone") and "active" in li.get_attribute("class")
                         for li in driver.find_elements(By.CSS_SELECTOR, "#projects li")), "the new project")
    status, projects = http("GET", "/api/projects")
    project = next(p for p in projects["projects"] if p["name"] == "e2e sandstone")
    ctx["project"] = project["id"]


@step("a bad upload is refused with a clear message and nothing stored")
def _():
    bogus = os.path.join(args.artifacts, "truncated.tif")
    with open(bogus, "wb") as f:
        f.write(tile_bytes[:300])
    el("file-input").send_keys(bogus)
    wait_for(lambda: "error" in el("upload-status").get_attribute("class"), "the upload error")
    message = text("upload-status")
    assert "truncated.tif" in message and len(message) > 30, f"unclear message {message!r}"
    status, images = http("GET", f"/api/projects/{ctx['project']}/images")
    assert images["images"] == [], f"a refused upload left {images}"
    shot("bad-upload-refused")
    log(f"        message: {message}")


@step("upload the sample tile through the page's upload control")
def _():
    el("file-input").send_keys(os.path.abspath(args.tile))
    wait_for(lambda: any(li.text.startswith(tile_name) for li in driver.find_elements(By.CSS_SELECTOR, "#images li")),
             "the uploaded image in the list")
    wait_for(lambda: js("const v = cleave.viewer; return v.image && [...v.tiles.values()].some((i) => i.complete && i.naturalWidth > 0)"),
             "the first tiles")
    status, images = http("GET", f"/api/projects/{ctx['project']}/images")
    image = images["images"][0]
    assert image["sha256"] == hashlib.sha256(tile_bytes).hexdigest(), "stored bytes differ from the file"
    assert (image["width"], image["height"]) == (truth.shape[1], truth.shape[0])
    ctx["image"] = image["id"]
    time.sleep(0.3)
    assert not el("scalebar").get_attribute("hidden"), "no scale bar although the tile has a pixel size"
    shot("uploaded")


# Which planned routes this server has (docs/api.md); steps needing a missing one are skipped.
if "image" in ctx:
    image_path, project_path = f"/api/images/{ctx['image']}", f"/api/projects/{ctx['project']}"
    features = {
        "jobs": route_exists("GET", "/api/jobs/00000000-0000-0000-0000-000000000000"),
        "cluster": route_exists("GET", f"{image_path}/clusterings"),
        "classes": route_exists("GET", f"{project_path}/classes"),
        "predict": route_exists("GET", f"{image_path}/predictions"),
        "objects": route_exists("GET", "/api/objectsets/00000000-0000-0000-0000-000000000000"),
        "reference": route_exists("GET", f"{image_path}/reference"),
        "export": route_exists("POST", f"{project_path}/export", {}),
        "consent": route_exists("PUT", f"{project_path}/consent", {}),
        "events.csv": route_exists("GET", "/api/events.csv"),
    }
    log("        server routes: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in features.items()))


@step("display window, brightness and contrast")
def _():
    set_value("window-high", 5000)
    el("window-high").send_keys(Keys.TAB)
    wait_for(lambda: js("return [...cleave.viewer.tiles.values()].some((i) => i.src.includes('high=5000') && i.complete && i.naturalWidth > 0)"),
             "tiles with the new window")
    js("const b = document.getElementById('brightness'); b.value = 130; b.dispatchEvent(new Event('input'));")
    assert "brightness(1.3)" in js("return cleave.viewer.filter"), js("return cleave.viewer.filter")
    shot("window-and-brightness")
    key("a")
    assert js("return cleave.viewer.window === null && cleave.viewer.filter === 'none'"), "A did not restore auto contrast"


@step("consent toggle", needs=("consent",))
def _():
    wait_for(lambda: el("consent-row").is_displayed(), "the consent toggle")
    el("consent").click()
    wait_for(lambda: http("GET", f"/api/projects/{ctx['project']}")[1].get("consent") is True, "consent stored")


@step("cluster the image (job with progress, heatmap, legend)", needs=("jobs", "cluster"))
def _():
    key("l")
    assert el("locate-panel").is_displayed(), "L does not show the Locate panel"
    set_value("cluster-count", 4)
    el("cluster-run").click()
    try:
        wait_for(lambda: el("job").is_displayed(), "the progress bar", timeout=5)
        shot("cluster-progress")
    except AssertionError:
        pass   # a fast job may end before the bar is seen
    wait_for(lambda: len(driver.find_elements(By.CSS_SELECTOR, "#cluster-legend tbody tr")) >= 2 or
                     "error" in el("cluster-summary").get_attribute("class"), "the cluster legend")
    assert "error" not in el("cluster-summary").get_attribute("class"), text("cluster-summary")
    wait_overlay("clusters")
    assert js("return cleave.jobStats.streamed") >= 1, f"job progress did not come by server-sent events: {js('return cleave.jobStats')}"
    ctx["clustering"] = js("return cleave.state.clustering.id")
    shot("clustered-k4")


@step("re-cluster with a new k uses cached features", needs=("jobs", "cluster"))
def _():
    set_value("cluster-count", 3)
    started = time.time()
    el("cluster-run").click()
    wait_for(lambda: js("return cleave.state.clustering && cleave.state.clustering.id !== arguments[0]", ctx["clustering"]),
             "the second clustering")
    seconds = time.time() - started
    clustering = js("return cleave.state.clustering")
    assert clustering["clusterCount"] == 3, clustering["clusterCount"]
    assert clustering["featuresCached"] is True, "features were recomputed"
    ctx["clustering"] = clustering["id"]
    ctx["recluster_seconds"] = seconds
    log(f"        re-cluster round trip in the page: {seconds * 1000:.0f} ms ({text('cluster-summary')})")
    wait_overlay("clusters")
    shot("reclustered-k3")


@step("pick a cluster by clicking the image and name it", needs=("cluster",))
def _():
    # A particle pixel: the centroid of the largest particle in the truth mask.
    labels, count = ndimage.label(truth)
    sizes = ndimage.sum(truth, labels, range(1, count + 1))
    largest = int(np.argmax(sizes)) + 1
    cy, cx = ndimage.center_of_mass(labels == largest)
    ctx["particle"] = (int(cx), int(cy))
    click_image(cx, cy)
    wait_for(lambda: js("return document.activeElement && document.activeElement.id === 'pick-name'"), "the cluster under the click")
    expected = http("GET", f"/api/clusterings/{ctx['clustering']}/at?x={int(cx)}&y={int(cy)}")[1]["cluster"]
    selected = js("return cleave.state.selectedCluster")
    assert selected == expected, f"click selected {selected}, the server says {expected} is there"
    el("pick-name").send_keys("particle")
    el("pick-button").click()
    wait_for(lambda: any(c.get("picked") and c.get("name") == "particle"
                         for c in http("GET", f"/api/clusterings/{ctx['clustering']}")[1]["clusters"]), "the pick on the server")
    ctx["picked"] = selected
    wait_overlay("clusters")
    # The pick taught a model (issue 18 item 4): the page offers it for the next clustering and links the file.
    wait_for(lambda: el("pick-model").is_displayed() and "learned" in el("pick-model").text, "the pick model line")
    assert el("cluster-use-picks-row").is_displayed() and "particle" in el("cluster-picks-source").text
    status, model = http("GET", f"/api/clusterings/{ctx['clustering']}/model.json")
    assert status == 200 and model["version"] == 3 and model["classifier"]["pickedName"] == "particle", (status, list(model))
    shot("cluster-picked")


@step("merge two clusters", needs=("cluster",))
def _():
    clusters = [c["index"] for c in js("return cleave.state.clustering.clusters") if c["index"] != ctx.get("picked")]
    a, b = clusters[0], clusters[1]
    js("document.getElementById('merge-a').value = arguments[0]; document.getElementById('merge-b').value = arguments[1];", str(a), str(b))
    el("merge-button").click()
    wait_for(lambda: any(c["index"] == b and c.get("mergedInto") == a
                         for c in http("GET", f"/api/clusterings/{ctx['clustering']}")[1]["clusters"]), "the merge on the server")
    wait_for(lambda: js("return cleave.state.clustering.clusters.some((c) => c.mergedInto !== null && c.mergedInto !== undefined)"), "the merged legend")
    wait_overlay("clusters")
    shot("clusters-merged")


@step("add two classes", needs=("classes",))
def _():
    key("b")
    for name in ("particle", "film"):
        set_value("class-name", name)
        el("class-name").send_keys(Keys.ENTER)
        wait_for(lambda: name in js("return [...document.querySelectorAll('#classes li .name')].map((e) => e.textContent)"),
                 f"class {name}")
    classes = http("GET", f"/api/projects/{ctx['project']}/classes")[1]["classes"]
    ctx["classes"] = {c["name"]: c["value"] for c in classes}
    assert set(ctx["classes"]) == {"particle", "film"}, classes


@step("paint strokes for two classes and undo one")
def _():
    key("b")
    js("const s = document.getElementById('brush-size'); s.value = 6; s.dispatchEvent(new Event('input'));")
    film = ~ndimage.binary_dilation(truth, iterations=25)
    film[:40, :] = film[-40:, :] = film[:, :40] = film[:, -40:] = False
    distance = ndimage.distance_transform_edt(film)
    fy, fx = np.unravel_index(np.argmax(distance), distance.shape)
    px, py = ctx.get("particle") or tuple(int(v) for v in np.argwhere(truth)[0][::-1])
    before = saved_strokes()
    key("1")
    paint([(px - 3, py), (px, py + 2), (px + 3, py)])
    wait_for(lambda: saved_strokes() == before + 1, "stroke 1 saved")
    key("2")
    paint([(fx - 12, fy), (fx, fy + 4), (fx + 12, fy)])
    wait_for(lambda: saved_strokes() == before + 2, "stroke 2 saved")
    # A slip: a third stroke elsewhere on the film, undone at once with Ctrl+Z.
    distance[max(0, fy - 60):fy + 60, max(0, fx - 60):fx + 60] = 0
    sy, sx = np.unravel_index(np.argmax(distance), distance.shape)
    paint([(sx - 10, sy), (sx + 10, sy)])
    wait_for(lambda: saved_strokes() == before + 3, "stroke 3 saved")
    shot("three-strokes")
    js("document.activeElement && document.activeElement.blur()")
    ActionChains(driver).key_down(Keys.CONTROL).send_keys("z").key_up(Keys.CONTROL).perform()
    wait_for(lambda: saved_strokes() == before + 2, "the undo")
    ctx.update(film=(int(fx), int(fy)), slip=(int(sx), int(sy)), particle=(px, py))
    strokes = http("GET", f"/api/images/{ctx['image']}/strokes")[1]["strokes"]
    every = http("GET", f"/api/images/{ctx['image']}/strokes?include=undone")[1]["strokes"]
    assert len(strokes) == 2 and len(every) == 3, (strokes, every)
    assert sorted(s["class"] for s in strokes) == [1, 2], strokes
    assert [s["state"] for s in every if s not in strokes] != ["active"], every
    shot("strokes-after-undo")


@step("train and predict (jobs), fractions and uncertainty shown", needs=("jobs", "classes", "predict"))
def _():
    el("update-once").click()
    wait_for(lambda: "Model v" in text("prediction-summary") or "error" in el("prediction-summary").get_attribute("class"),
             "the prediction", timeout=max(args.timeout, 120))
    assert "error" not in el("prediction-summary").get_attribute("class"), text("prediction-summary")
    wait_overlay("prediction")
    rows = driver.find_elements(By.CSS_SELECTOR, "#fractions tbody tr")
    assert len(rows) == 2, f"{len(rows)} fraction rows"
    percents = [float(r.find_elements(By.TAG_NAME, "td")[2].text) for r in rows]
    assert abs(sum(percents) - 100) < 0.5, percents
    ctx["prediction"] = js("return cleave.state.prediction.id")
    shot("predicted")
    key("u")
    wait_overlay("uncertainty")
    shot("uncertainty")
    key("u")


@step("objects of a class: table, highlight", needs=("jobs", "objects"))
def _():
    key("o")
    js("const s = document.getElementById('objects-class'); s.value = arguments[0];", str(ctx["classes"]["particle"]))
    set_value("objects-min-size", 20)
    el("objects-form").find_element(By.CSS_SELECTOR, "button").click()
    wait_for(lambda: len(driver.find_elements(By.CSS_SELECTOR, "#objects-table tbody tr")) > 0 or
                     "error" in el("objects-summary").get_attribute("class"), "the object table")
    assert "error" not in el("objects-summary").get_attribute("class"), text("objects-summary")
    driver.find_elements(By.CSS_SELECTOR, "#objects-table tbody tr")[0].click()
    assert js("return cleave.viewer.highlight !== null"), "no highlight"
    ctx["objectset"] = js("return cleave.state.objectSet.id")
    wait_overlay("objects")
    shot("objects")
    # Reclassify the selected object as film.
    ctx["labels_before"] = tifffile.imread(io.BytesIO(http("GET", f"/api/predictions/{ctx['prediction']}/labels.tif", raw=True)[1]))
    ctx["particle_percent_before"] = float(js("return document.querySelector('#fractions tbody tr').children[2].textContent"))
    js("document.getElementById('reclassify-class').value = 'film'")
    el("reclassify-form").find_element(By.CSS_SELECTOR, "button").click()
    object_id = js("return cleave.state.selectedObject.id")
    ctx["reclassified"] = next(o for o in js("return cleave.state.objectSet.objects") if o["id"] == object_id)
    wait_for(lambda: next(o for o in http("GET", f"/api/objectsets/{ctx['objectset']}")[1]["objects"] if o["id"] == object_id)["class"] == "film",
             "the reclassification on the server")


@step("objects in the image's units: sorted by a click on a heading, filtered by diameter, with a size histogram (issue 22, item 5)",
      needs=("jobs", "objects"))
def _():
    key("o")
    objects = js("return cleave.state.objectSet.objects")
    spacing = js("return cleave.state.image.spacing")
    assert spacing and spacing["unit"] == "nm", spacing
    pixel_area, pixel_length = spacing["x"] * spacing["y"], (spacing["x"] * spacing["y"]) ** 0.5
    headings = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "#objects-table thead th")]
    assert any(h.startswith("area nm²") or h.startswith("area µm²") for h in headings) and any(h.startswith("diam. nm") for h in headings), headings
    factor = 1e6 if any(h.startswith("area µm²") for h in headings) else 1
    ids = lambda: [int(tr.get_attribute("data-object")) for tr in driver.find_elements(By.CSS_SELECTOR, "#objects-table tbody tr")]
    by_id = {o["id"]: o for o in objects}
    first = driver.find_elements(By.CSS_SELECTOR, "#objects-table tbody tr")[0]
    shown_area = float(first.find_elements(By.TAG_NAME, "td")[1].text)
    expected_area = by_id[ids()[0]]["values"]["area"] * pixel_area / factor
    assert abs(shown_area - expected_area) <= 0.002 * expected_area, (shown_area, expected_area)
    driver.find_element(By.CSS_SELECTOR, '#objects-table th[data-sort="area"]').click()
    areas = [by_id[i]["values"]["area"] for i in ids()]
    assert areas == sorted(areas, reverse=True), areas[:5]
    driver.find_element(By.CSS_SELECTOR, '#objects-table th[data-sort="area"]').click()
    areas = [by_id[i]["values"]["area"] for i in ids()]
    assert areas == sorted(areas), areas[:5]
    counts = [int(c) for c in el("objects-histogram").get_attribute("data-counts").split(",")]
    assert sum(counts) == len(objects) and len(counts) == 16, counts
    diameters = sorted(o["values"]["equivalent_diameter"] * pixel_length for o in objects)
    threshold = diameters[len(diameters) // 2]
    set_value("objects-min", f"{threshold:.6f}")
    expected = {o["id"] for o in objects if o["values"]["equivalent_diameter"] * pixel_length >= float(f"{threshold:.6f}")}
    wait_for(lambda: set(ids()) == expected, "the filtered table")
    assert f"{len(expected)} with a diameter in the range" in text("objects-summary"), text("objects-summary")
    shot("objects-units-sorted-filtered-histogram")
    el("objects-min").clear()
    js("document.getElementById('objects-min').dispatchEvent(new Event('input'))")
    wait_for(lambda: len(ids()) == len(objects), "the whole table again")


@step("a reclassified object reaches the label TIFF and the fractions (issue 22, defect 5)", needs=("jobs", "objects"))
def _():
    wait_for(lambda: "its pixels too" in text("status"), "the page's refreshed result")
    after = tifffile.imread(io.BytesIO(http("GET", f"/api/predictions/{ctx['prediction']}/labels.tif", raw=True)[1]))
    before = ctx["labels_before"]
    changed = before != after
    area = int(ctx["reclassified"]["values"]["area"])
    assert int(changed.sum()) == area, f"{int(changed.sum())} label pixels changed, the object has {area}"
    assert set(np.unique(before[changed])) == {ctx["classes"]["particle"]} and set(np.unique(after[changed])) == {ctx["classes"]["film"]}
    percent = float(js("return document.querySelector('#fractions tbody tr').children[2].textContent"))
    expected = ctx["particle_percent_before"] - 100 * area / truth.size
    assert abs(percent - expected) < 0.06, f"particle {percent} % on the page, expected {expected:.2f} %"
    ctx["corrected"] = changed
    shot("object-reclassified-labels-follow")
    js("cleave.viewer.highlight = null; cleave.viewer.fit();")


def current_labels():
    return tifffile.imread(io.BytesIO(http("GET", f"/api/predictions/{ctx['prediction']}/labels.tif", raw=True)[1]))


@step("a pixel size set by hand: the objects table, the fractions and the scale bar follow (issue 22, item 5)", needs=("jobs", "objects"))
def _():
    assert el("pixel-size-form").is_displayed() and float(el("pixel-size").get_attribute("value")) == 5, el("pixel-size").get_attribute("value")
    bar = lambda: (text("scalebar"), js("return document.querySelector('#scalebar .bar').style.width"))
    scale_before = bar()
    set_value("pixel-size", "2.5")
    js("document.getElementById('pixel-size-unit').value = 'nm'")
    el("pixel-size-form").find_element(By.CSS_SELECTOR, "button").click()
    wait_for(lambda: (js("return cleave.state.image.spacing") or {}).get("x") == 2.5, "the new pixel size")
    wait_for(lambda: bar() != scale_before, "the scale bar to follow")
    prediction = http("GET", f"/api/predictions/{ctx['prediction']}")[1]
    assert all(abs(f["area"] - f["pixels"] * 6.25) < 1e-6 * max(1, f["area"]) and f["unit"] == "nm²" for f in prediction["fractions"]), prediction["fractions"]
    objects = {o["id"]: o for o in js("return cleave.state.objectSet.objects")}
    first = driver.find_elements(By.CSS_SELECTOR, "#objects-table tbody tr")[0]
    area_px = objects[int(first.get_attribute("data-object"))]["values"]["area"]
    shown = float(first.find_elements(By.TAG_NAME, "td")[1].text)
    assert abs(shown - area_px * 6.25) <= 0.002 * area_px * 6.25, (shown, area_px)
    shot("pixel-size-by-hand")
    set_value("pixel-size", "5")
    el("pixel-size-form").find_element(By.CSS_SELECTOR, "button").click()
    wait_for(lambda: (js("return cleave.state.image.spacing") or {}).get("x") == 5, "the pixel size back at 5 nm")


@step("correct the result by hand: lasso and fill; the fractions follow and the next model learns it (issue 22, item 4)", needs=("predict",))
def _():
    status, _ = http("POST", f"/api/predictions/{ctx['prediction']}/corrections", {"class": 1, "mode": "fill", "points": [[1, 1]]})
    if status == 404:
        raise Skip("the server has no corrections route")
    key("c")
    particle, film = ctx["classes"]["particle"], ctx["classes"]["film"]
    js("[...document.querySelectorAll('#classes li')].find((li) => li.dataset.value == arguments[0]).click()", str(film))
    assert js("return cleave.state.classValue") == film, "film is not the chosen class"
    js("document.getElementById('correct-mode').value = 'lasso'")
    before = current_labels()
    # A 40x40 square around the largest particle region away from the reclassified object.
    corrected = ctx.get("corrected", np.zeros(truth.shape, bool))
    # Kept clear of the reclassified object and of the painted particle stroke (later steps check both).
    keep_out = ndimage.binary_dilation(corrected, iterations=30)
    keep_out[max(0, ctx["particle"][1] - 45):ctx["particle"][1] + 46, max(0, ctx["particle"][0] - 45):ctx["particle"][0] + 46] = True
    regions, count = ndimage.label((before == particle) & ~keep_out)
    assert count > 0, "no particle region left to correct"
    biggest = 1 + int(np.argmax(ndimage.sum(np.ones_like(regions), regions, range(1, count + 1))))
    cy, cx = [int(v) for v in ndimage.center_of_mass(regions == biggest)]
    h, w = truth.shape
    x0, x1, y0, y1 = max(2, cx - 20), min(w - 3, cx + 20), max(2, cy - 20), min(h - 3, cy + 20)
    js("cleave.viewer.fit()")
    paint([(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0 + 1)])
    wait_for(lambda: "Corrected" in text("status") or "error" in el("status").get_attribute("class"), "the lasso correction")
    assert "Corrected" in text("status"), text("status")
    after = current_labels()
    inner = np.zeros(truth.shape, bool); inner[y0 + 2:y1 - 1, x0 + 2:x1 - 1] = True
    outer = np.zeros(truth.shape, bool); outer[max(0, y0 - 2):y1 + 3, max(0, x0 - 2):x1 + 3] = True
    assert np.all(after[inner] == film), "pixels inside the lasso are not film"
    assert np.array_equal(after[~outer], before[~outer]), "the lasso changed pixels outside it"
    shot("corrected-lasso")
    lasso_changed = before != after
    # Fill: the connected particle region under a click becomes film.
    js("document.getElementById('correct-mode').value = 'fill'")
    remaining, count = ndimage.label(after == particle)   # 4-connected, as the server's fill
    sizes = ndimage.sum(np.ones_like(remaining), remaining, range(1, count + 1))
    under_stroke = remaining[ctx["particle"][1], ctx["particle"][0]]
    if under_stroke > 0:
        sizes[under_stroke - 1] = 0   # not the painted particle's region
    assert sizes.max() > 0, "no particle region left to fill"
    target = 1 + int(np.argmax(sizes))
    ys, xs = np.nonzero(remaining == target)
    pick = len(ys) // 2
    js("cleave.viewer.centreOn({x: arguments[0] - 2, y: arguments[1] - 2, width: 4, height: 4}, false)", int(xs[pick]), int(ys[pick]))
    js("document.getElementById('status').textContent = ''")
    click_image(xs[pick] + 0.5, ys[pick] + 0.5)
    wait_for(lambda: "Corrected" in text("status") or "error" in el("status").get_attribute("class"), "the fill correction")
    filled = current_labels()
    changed = filled != after
    assert int(changed.sum()) == int(sizes[target - 1]), f"fill changed {int(changed.sum())} px, the region has {int(sizes[target - 1])}"
    assert np.all(changed == (remaining == target)), "fill changed pixels outside the connected region"
    percent = float(js("return [...document.querySelectorAll('#fractions tbody tr')].find((tr) => tr.textContent.includes('film')).children[2].textContent"))
    assert abs(percent - 100 * float((filled == film).sum()) / filled.size) < 0.06, f"film {percent} % on the page"
    shot("corrected-fill")
    ctx["corrected"] = corrected | lasso_changed | changed
    ctx["correction_pixels"] = int((lasso_changed | changed).sum())
    # The next model learns from the corrections: film's training pixels grow by at least the
    # corrected ones (strokes alone give a few hundred).
    status, job = http("POST", f"/api/images/{ctx['image']}/train", {"sessionId": "e2e-correction-check", "treeCount": 5},
                       user=ctx["user"])
    assert status == 202, job
    wait_for(lambda: http("GET", f"/api/jobs/{job['id']}")[1]["state"] in ("done", "failed"), "the training job")
    done = http("GET", f"/api/jobs/{job['id']}")[1]
    assert done["state"] == "done", done
    model = http("GET", f"/api/models/{done['result']['modelId']}")[1]
    assert model["labelledPixels"][str(film)] >= ctx["correction_pixels"], (model["labelledPixels"], ctx["correction_pixels"])
    key("v")


@step("accept the prediction", needs=("predict",))
def _():
    assert "Prediction" in text("decision-target"), text("decision-target")
    el("accept").click()
    wait_for(lambda: http("GET", f"/api/predictions/{ctx['prediction']}")[1]["state"] == "accepted", "accepted on the server")
    shot("accepted")


def wait_download(name):
    path = os.path.join(downloads, name)
    wait_for(lambda: os.path.exists(path) and not os.path.exists(path + ".crdownload") and os.path.getsize(path) > 0, f"download {name}")
    return path


stem = os.path.splitext(tile_name)[0]


@step("export label TIFF", needs=("predict",))
def _():
    driver.find_element(By.CSS_SELECTOR, '[data-export="labels"]').click()
    labels = tifffile.imread(wait_download(f"{stem}-labels.tif"))
    assert labels.shape == truth.shape, labels.shape
    assert set(np.unique(labels)) <= set(ctx["classes"].values()), np.unique(labels)
    px, py = ctx["particle"]
    assert labels[py, px] == ctx["classes"]["particle"], "the painted particle is not labelled particle"
    ctx["labels"] = labels


def export_file(kind, name):
    """Clicks an export button; returns the downloaded path, or raises Skip when the server lacks the route."""
    button = driver.find_element(By.CSS_SELECTOR, f'[data-export="{kind}"]')
    if not button.is_enabled() and "cannot export" in (button.get_attribute("title") or ""):
        raise Skip(f"the server does not offer it (button: {button.get_attribute('title')})")
    assert button.is_enabled(), f"the {kind} button is disabled"
    js("document.getElementById('export-status').classList.remove('error')")
    button.click()
    wait_for(lambda: os.path.exists(os.path.join(downloads, name)) or "error" in el("export-status").get_attribute("class"),
             f"export {kind}")
    if "error" in el("export-status").get_attribute("class"):
        message = text("export-status")
        if "does not offer it yet" in message:
            raise Skip(message)
        raise AssertionError(message)
    return wait_download(name)


@step("export probability TIFF", needs=("predict",))
def _():
    path = export_file("probabilities", f"{stem}-probabilities.tif")
    probabilities = tifffile.imread(path)
    assert probabilities.shape == (2,) + truth.shape, probabilities.shape
    # Classes are channels in Fiji, not z-slices (issue 22).
    metadata = tifffile.TiffFile(path).imagej_metadata
    assert metadata.get("channels") == 2 and "slices" not in metadata, metadata
    assert np.allclose(probabilities.sum(axis=0), 1, atol=1e-3), "probabilities do not sum to 1"
    # Labels are the most probable class, except where an object was reclassified by hand.
    kept = ~ctx.get("corrected", np.zeros(truth.shape, bool))
    assert np.array_equal((np.argmax(probabilities, axis=0) + 1)[kept], ctx["labels"][kept]), "labels are not the most probable class"


@step("export overlay PNG", needs=("predict",))
def _():
    path = export_file("overlay", f"{stem}-overlay.png")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n", "not a PNG"


@step("export objects CSV", needs=("objects",))
def _():
    rows = list(csv.DictReader(open(export_file("objects-csv", f"{stem}-objects.csv"))))
    assert rows and "area" in rows[0], rows[:1]
    assert len(rows) == js("return cleave.state.objectSet.count"), "CSV rows differ from the object count"


@step("export GeoJSON", needs=("objects",))
def _():
    geo = json.load(open(export_file("geojson", f"{stem}-objects.geojson")))
    assert geo["type"] == "FeatureCollection", str(geo)[:200]
    assert len(geo["features"]) == js("return cleave.state.objectSet.count"), "features differ from the object count"



def inside_polygon(polygon, shape):
    """Even-odd rule at pixel centres (x + 0.5, y + 0.5): the workbench's region-of-interest mask."""
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]] + 0.5
    inside = np.zeros(shape, bool)
    for (x0, y0), (x1, y1) in zip(polygon, polygon[1:] + polygon[:1]):
        crosses = ((y0 <= yy) & (yy < y1)) | ((y1 <= yy) & (yy < y0))
        with np.errstate(divide="ignore", invalid="ignore"):
            at = x0 + (yy - y0) * (x1 - x0) / (y1 - y0)
        inside ^= crosses & (xx < at)
    return inside


@step("a region of interest changes the fractions and the label export (issue 22, item 3)", needs=("predict",))
def _():
    key("r")
    assert js("return document.getElementById('roi-panel').classList.contains('shown')"), "the ROI panel is not shown"
    js("cleave.viewer.fit()")
    h, w = truth.shape
    corners = [(0.1 * w, 0.1 * h), (0.55 * w, 0.12 * h), (0.5 * w, 0.9 * h), (0.12 * w, 0.85 * h)]
    for x, y in corners:
        click_image(x, y)
    assert "Drawing: 4 points" in text("roi-status"), text("roi-status")
    shot("roi-drawing")
    click_image(*corners[0])   # the first point closes the polygon
    wait_for(lambda: js("return !!(cleave.state.roi && cleave.state.roi.polygon && cleave.state.prediction && cleave.state.prediction.roi)"),
             "the region of interest on the server and the refreshed result")
    polygon = [tuple(v) for v in js("return cleave.state.roi.polygon")]
    assert len(polygon) == 4, polygon
    inside = inside_polygon(polygon, truth.shape)
    labels = ctx["labels"]
    particle = ctx["classes"]["particle"]
    expected = 100 * float((labels[inside] == particle).sum()) / float(inside.sum())
    row = next(tr for tr in driver.find_elements(By.CSS_SELECTOR, "#fractions tbody tr")
               if tr.get_attribute("textContent").find("particle") >= 0)
    shown = float(js("return arguments[0].children[2].textContent", row))
    assert abs(shown - expected) < 0.06, f"particle {shown} % on the page, {expected:.2f} % inside the polygon"
    summary = http("GET", f"/api/predictions/{ctx['prediction']}")[1]["roi"]
    assert abs(summary["insidePixels"] - int(inside.sum())) <= 0.002 * inside.sum(), (summary, int(inside.sum()))
    assert "Fractions and objects count pixels inside the polygon" in text("roi-status"), text("roi-status")
    exported = tifffile.imread(io.BytesIO(http("GET", f"/api/predictions/{ctx['prediction']}/labels.tif", raw=True)[1]))
    assert (exported[~inside] == 0).mean() > 0.998 and (exported[inside] == labels[inside]).mean() > 0.998, "label TIFF not clipped to the polygon"
    shot("roi-fractions")
    el("roi-clear").click()
    wait_for(lambda: js("return !cleave.state.roi.polygon && cleave.state.prediction && !cleave.state.prediction.roi"), "the cleared region")
    whole = 100 * float((labels == particle).sum()) / labels.size
    row = next(tr for tr in driver.find_elements(By.CSS_SELECTOR, "#fractions tbody tr")
               if tr.get_attribute("textContent").find("particle") >= 0)
    assert abs(float(js("return arguments[0].children[2].textContent", row)) - whole) < 0.06, "fractions not back to the whole image"
    key("v")


@step("export reference data zip and check its contents", needs=("export",))
def _():
    driver.find_element(By.CSS_SELECTOR, '[data-export="reference"]').click()
    path = wait_download("e2e_sandstone-reference-data.zip")
    archive = zipfile.ZipFile(path)
    names = archive.namelist()
    image = ctx["image"]
    for required in ["metadata.json", "events.csv", f"labels/{image}.tif", f"provenance/{image}.tif"]:
        assert required in names, f"{required} missing from {names}"
    assert any(n.startswith(f"images/{image}.") for n in names), names
    metadata = json.loads(archive.read("metadata.json"))
    blob = json.dumps(metadata)
    assert "CC-BY-4.0" in blob and "particle" in blob and "film" in blob, blob[:400]
    stored = next(n for n in names if n.startswith(f"images/{image}."))
    assert hashlib.sha256(archive.read(stored)).hexdigest() == hashlib.sha256(tile_bytes).hexdigest(), "image bytes differ"
    events = list(csv.DictReader(io.StringIO(archive.read("events.csv").decode())))
    assert any(e.get("type") == "stroke" for e in events), "no stroke events in events.csv"
    assert archive.testzip() is None, "Python's zipfile finds a damaged entry in Cleave's export"
    ctx["reference_zip"] = path
    shot("exported")
    ctx["zip_labels"] = tifffile.imread(io.BytesIO(archive.read(f"labels/{image}.tif")))
    ctx["zip_provenance"] = tifffile.imread(io.BytesIO(archive.read(f"provenance/{image}.tif")))


@step("events in the database", needs=())
def _():
    js("return cleave.flush()")
    time.sleep(0.3)
    database = sqlite3.connect(f"file:{os.path.join(args.data, 'cleave.sqlite')}?mode=ro", uri=True)
    rows = database.execute("SELECT type, user_id, image_id, payload FROM events").fetchall()
    types = {}
    for kind, user, image, payload in rows:
        types[kind] = types.get(kind, 0) + 1
        assert "@" not in user and "e2e sandstone" not in user
    expected = ["session.start", "image.open", "image.upload", "tool.change", "viewport", "stroke", "undo"]
    if features.get("cluster"):
        expected += ["cluster.run", "cluster.pick", "cluster.merge"]
    if features.get("predict"):
        expected += ["train", "predict", "accept"]
    if features.get("export"):
        expected += ["export"]
    missing = [t for t in expected if t not in types]
    log(f"        {len(rows)} events: " + ", ".join(f"{k} {v}" for k, v in sorted(types.items())))
    assert not missing, f"event types missing from the database: {missing}"
    users = {user for _, user, _, _ in rows}
    assert users == {ctx["user"]}, f"events under other user ids: {users}"
    strokes = [json.loads(p) for k, _, _, p in rows if k == "stroke"]
    assert len(strokes) == 3 and all("points" in s or "strokeId" in s or "id" in s for s in strokes), strokes[:1]
    ip_like = [p for _, _, _, p in rows if "127.0.0.1" in p]
    assert not ip_like, f"IP addresses in events: {ip_like[:1]}"
    status, mine = http("GET", "/api/events", user=ctx["user"])
    assert len(mine["events"]) == len(rows), (len(mine["events"]), len(rows))


@step("reference labels: strong where painted, weak where accepted, slip discarded", needs=("reference", "predict"))
def _():
    image = ctx["image"]
    status, summary = http("GET", f"/api/images/{image}/reference")
    assert status == 200, summary
    status, labels_bytes = http("GET", f"/api/images/{image}/reference/labels.tif", raw=True)
    status, provenance_bytes = http("GET", f"/api/images/{image}/reference/provenance.tif", raw=True)
    labels = tifffile.imread(io.BytesIO(labels_bytes))
    provenance = tifffile.imread(io.BytesIO(provenance_bytes))
    assert labels.shape == provenance.shape == truth.shape
    (px, py), (fx, fy), (sx, sy) = ctx["particle"], ctx["film"], ctx["slip"]
    assert provenance[py, px] == 2 and labels[py, px] == ctx["classes"]["particle"], (provenance[py, px], labels[py, px])
    assert provenance[fy, fx] == 2 and labels[fy, fx] == ctx["classes"]["film"], (provenance[fy, fx], labels[fy, fx])
    # The undone slip counts for nothing: there the accepted prediction (weak) decides.
    assert provenance[sy, sx] == 1, f"undone stroke left provenance {provenance[sy, sx]}"
    assert labels[sy, sx] == ctx["labels"][sy, sx], "the slip's pixel is not the accepted prediction's label"
    strong = int((provenance >= 2).sum())
    weak = int((provenance == 1).sum())
    assert summary["strongPixels"] == strong and summary["weakPixels"] == weak, (summary, strong, weak)
    assert summary["correctedPixels"] == int((provenance == 3).sum()), summary
    corrected = ctx.get("corrected", np.zeros(truth.shape, bool))
    # Corrected by hand (reclassified object, lasso, fill): provenance 3, or 2 where a stroke lies on top.
    assert np.all(provenance[corrected] >= 2), "a corrected pixel is not a strong reference label"
    assert int((provenance[corrected] == 3).sum()) > 0.9 * int(corrected.sum()), "corrections lack their own provenance (3)"
    assert 0 < int(((provenance == 2) & ~corrected).sum()) < 2000, f"{strong} strong pixels for three short strokes"
    assert weak + strong == truth.size, "accepted prediction should cover the whole image"
    # Away from strokes the reference equals the accepted prediction.
    weak_mask = provenance == 1
    assert np.array_equal(labels[weak_mask], ctx["labels"][weak_mask]), "weak labels differ from the accepted prediction"
    if "zip_provenance" in ctx:
        assert np.array_equal(ctx["zip_provenance"], provenance) and np.array_equal(ctx["zip_labels"], labels), \
            "the zip's reference differs from the API's"
    log(f"        reference: {strong} strong, {weak} weak pixels")


@step("cancel a job waiting behind others", needs=("jobs", "cluster"))
def _():
    key("l")
    js("""const m = document.getElementById('cluster-mode'); m.value = 'window'; m.dispatchEvent(new Event('change'));""")
    set_value("window-size", 65)
    set_value("window-stride", 1)
    # The server runs one job at a time (--jobs 1): a long U-Net training holds the worker until it is
    # cancelled, so the clustering behind it waits whatever the machine's speed.
    models_before = len(http("GET", f"/api/projects/{ctx['project']}/models")[1]["models"])
    status, filler = http("POST", f"/api/images/{ctx['image']}/train",
                          {"sessionId": "e2e-queue-filler", "method": "unet", "steps": 20000}, user="e2e-queue-filler")
    assert status == 202, filler
    wait_for(lambda: http("GET", f"/api/jobs/{filler['id']}")[1]["state"] == "running", "the U-Net training to start")
    el("cluster-run").click()
    wait_for(lambda: "waiting for a free worker" in text("job-stage"), "the queued job")
    el("job-cancel").click()
    shot("job-cancelled")
    wait_for(lambda: "cancelled" in text("job-stage") or not el("job").is_displayed(), "the job to stop")
    jobs = http("GET", f"/api/jobs?imageId={ctx['image']}")[1]["jobs"]
    newest = max((j for j in jobs if j["kind"] == "cluster"), key=lambda j: j["createdAt"])
    assert newest["state"] == "cancelled", newest
    assert js("return cleave.state.clustering.id") == ctx["clustering"], "a cancelled clustering replaced the shown one"
    # The training reports its loss while it runs, and stops when cancelled: no model is made.
    wait_for(lambda: (http("GET", f"/api/jobs/{filler['id']}")[1].get("metrics") or {}).get("loss"), "the U-Net's loss series")
    status, stopped = http("POST", f"/api/jobs/{filler['id']}/cancel", {}, user="e2e-queue-filler")
    assert status == 200, stopped
    wait_for(lambda: http("GET", f"/api/jobs/{filler['id']}")[1]["state"] == "cancelled", "the U-Net training to stop")
    assert len(http("GET", f"/api/projects/{ctx['project']}/models")[1]["models"]) == models_before, "a cancelled training made a model"
    js("""const m = document.getElementById('cluster-mode'); m.value = 'grid'; m.dispatchEvent(new Event('change'));""")


@step("live update predicts the visible region after a stroke", needs=("jobs", "classes", "predict"))
def _():
    key("b")
    js("cleave.viewer.zoomAt(2, cleave.viewer.canvas.clientWidth / 2, cleave.viewer.canvas.clientHeight / 2)")
    el("live-update").click()
    # Ticking it updates at once; wait for that prediction, then paint and wait for the next one.
    fractions_before = text("fractions")
    wait_for(lambda: js("return !!cleave.state.preview"), "the first live preview", timeout=max(args.timeout, 120))
    first = js("return cleave.state.preview.id")
    region = js("return cleave.state.preview.region")
    visible = js("return cleave.viewer.visibleRegion()")
    assert region == visible, f"live prediction covers {region}, the view shows {visible}"
    assert region["width"] < truth.shape[1] or region["height"] < truth.shape[0], region
    # The preview never replaces the whole-image result (issue 22, defect 6).
    assert js("return cleave.state.prediction.id") == ctx["prediction"], "the live preview replaced the whole-image result"
    assert text("fractions") == fractions_before, "the fractions changed to the visible rectangle's"
    assert "Prediction with model" in text("decision-target") and "whole image" in text("decision-target"), text("decision-target")
    cx, cy = visible["x"] + visible["width"] / 2, visible["y"] + visible["height"] / 2
    key("2")
    before = saved_strokes()
    paint([(cx - 8, cy), (cx + 8, cy)])
    wait_for(lambda: saved_strokes() == before + 1, "the stroke saved")
    wait_for(lambda: js("return cleave.state.preview.id !== arguments[0] && !cleave.state.job", first),
             "the live prediction after the stroke", timeout=max(args.timeout, 120))
    assert "region" in text("prediction-summary"), text("prediction-summary")
    assert js("return cleave.state.prediction.id") == ctx["prediction"], "the live preview replaced the whole-image result"
    shot("live-update-preview-over-whole-result")
    el("live-update").click()
    # The label TIFF is still the whole image's.
    os.remove(os.path.join(downloads, f"{stem}-labels.tif"))
    driver.find_element(By.CSS_SELECTOR, '[data-export="labels"]').click()
    labels = tifffile.imread(wait_download(f"{stem}-labels.tif"))
    assert labels.shape == truth.shape, f"label TIFF of {labels.shape} after a live preview of {region}"


@step("drag and drop a second image onto the upload box")
def _():
    # A 96×64 grey PNG made in the page, dropped as a file the way a file manager drops it.
    js("""const c = Object.assign(document.createElement('canvas'), { width: 96, height: 64 });
          const g = c.getContext('2d'); g.fillStyle = '#808080'; g.fillRect(0, 0, 96, 64);
          g.fillStyle = '#202020'; g.beginPath(); g.arc(48, 32, 14, 0, 7); g.fill();
          c.toBlob((blob) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([blob], 'dropped.png', { type: 'image/png' }));
            const zone = document.getElementById('dropzone');
            zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
            zone.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
          }, 'image/png');""")
    wait_for(lambda: js("return cleave.state.image && cleave.state.image.name === 'dropped.png'"), "the dropped image opened")
    images = http("GET", f"/api/projects/{ctx['project']}/images")[1]["images"]
    dropped = next(i for i in images if i["name"] == "dropped.png")
    assert (dropped["width"], dropped["height"], dropped["format"].lower()) == (96, 64, "png"), dropped
    assert "Stored dropped.png" in text("upload-status"), text("upload-status")
    shot("dropped-image")


@step("my data: see, export and delete my events", needs=())
def _():
    el("my-data-button").click()
    wait_for(lambda: "events:" in text("my-data-summary"), "my events listed")
    shot("my-data")
    if features.get("events.csv"):
        el("my-data-export").click()
        rows = list(csv.DictReader(open(wait_download("my-cleave-events.csv"))))
        assert rows and all(r.get("user_id", r.get("userId", ctx["user"])) == ctx["user"] for r in rows), rows[:1]
    el("my-data-delete").click()
    WebDriverWait(driver, 5).until(lambda d: d.switch_to.alert).accept()
    wait_for(lambda: "Deleted" in text("my-data-status"), "the deletion")
    status, mine = http("GET", "/api/events", user=ctx["user"])
    assert len(mine["events"]) <= 2, f"{len(mine['events'])} events left after delete"   # the dialog's own reload may add none
    el("my-data-close").click()


# ---------- issue 22: the defects a new user hit ----------

@step("after a reload: the whole-image result, its objects and the clustering settings come back (defect 7, Locate form)",
      needs=("jobs", "objects"))
def _():
    clustering = http("GET", f"/api/clusterings/{ctx['clustering']}")[1]
    driver.refresh()
    wait_for(lambda: js("return window.cleave && window.cleave.ready === true && !!cleave.state.image"), "the reloaded page")
    if js("return cleave.state.image.id") != ctx["image"]:
        driver.find_element(By.CSS_SELECTOR, f'#images li[data-id="{ctx["image"]}"]').click()
    wait_for(lambda: js("return !!cleave.state.objectSet"), "the object set reopened")
    assert js("return cleave.state.prediction.id") == ctx["prediction"], "the reopened result is not the whole-image one"
    assert js("return cleave.state.objectSet.id") == ctx["objectset"], js("return cleave.state.objectSet.id")
    rows = driver.find_elements(By.CSS_SELECTOR, "#objects-table tbody tr")
    assert len(rows) == js("return cleave.state.objectSet.objects.length") > 0, f"{len(rows)} rows"
    wait_for(lambda: js("return !!cleave.state.clustering"), "the clustering reopened")
    assert js("return cleave.state.clustering.id") == ctx["clustering"], "another clustering reopened"
    assert int(el("cluster-count").get_attribute("value")) == clustering["clusterCount"], \
        f"the form says k = {el('cluster-count').get_attribute('value')}, the clustering has {clustering['clusterCount']}"
    key("o")
    wait_overlay("objects")
    shot("reloaded-objects-reopened")


@step("predict all images of the project with the newest model; the fractions of all images as one CSV (issue 22, item 2)",
      needs=("jobs", "predict"))
def _():
    images = http("GET", f"/api/projects/{ctx['project']}/images")[1]["images"]
    model = http("GET", f"/api/projects/{ctx['project']}/models")[1]["models"][-1]
    before = {i["id"]: len(http("GET", f"/api/images/{i['id']}/predictions")[1]["predictions"]) for i in images}
    key("b")
    el("predict-all").click()
    wait_for(lambda: "images predicted with model" in text("batch-status"), "the batch", timeout=max(args.timeout, 120))
    line = text("batch-status")
    shot("predict-all")
    after = {i["id"]: http("GET", f"/api/images/{i['id']}/predictions")[1]["predictions"] for i in images}
    new = {i: p[before[i]:] for i, p in after.items()}
    done = [i for i in new if any(p["modelId"] == model["id"] for p in new[i])]
    assert f"{len(done)} of {len(images)} images predicted with model v{model['version']}" in line, (line, len(done))
    assert ctx["image"] in done, line
    tile_new = [p for p in new[ctx["image"]] if p["modelId"] == model["id"]][-1]
    print(f"        model v{model['version']} on the tile: " + ", ".join(f"{f['name']} {f['percent']:.1f} %" for f in tile_new["fractions"]))
    # Images that could not be predicted are named on the line.
    for image in images:
        if image["id"] not in done:
            assert image["name"] in line, (image["name"], line)
    assert el("predict-all").is_enabled() and el("update-once").is_enabled(), "the buttons stay disabled after the batch"
    driver.find_element(By.CSS_SELECTOR, '[data-export="project-fractions"]').click()
    rows = list(csv.DictReader(open(wait_download("e2e_sandstone-class-fractions.csv"))))
    assert {r["image_id"] for r in rows} == {i["id"] for i in images}, rows
    # The open image's rows are its current result: the accepted prediction (accepted results win over newer ones).
    current = [p for p in after[ctx["image"]] if p["state"] == "accepted" and p["region"]["width"] == truth.shape[1]][-1]
    mine = [r for r in rows if r["image_id"] == ctx["image"]]
    assert [(int(r["class_value"]), int(r["pixels"])) for r in mine] == [(f["value"], f["pixels"]) for f in current["fractions"]], (mine, current["fractions"])


@step("train a U-Net in the page: the loss chart follows the steps, Cancel keeps no model, then a model to download and a prediction (issue 22, item 2)",
      needs=("jobs", "classes", "predict"))
def _():
    key("b")
    js("""const m = document.getElementById('train-method'); m.value = 'unet'; m.dispatchEvent(new Event('change'));""")
    assert not el("live-update").is_enabled(), "Live update stays enabled for a U-Net"
    assert not el("forest-settings").is_displayed() and el("train-steps").is_displayed(), "the forest's settings are shown for a U-Net"
    models = lambda: http("GET", f"/api/projects/{ctx['project']}/models")[1]["models"]
    before = len(models())
    set_value("train-steps", 20000)
    el("update-once").click()
    wait_for(lambda: "loss" in text("train-chart-caption") and "of 20000" in text("train-chart-caption"), "the chart's first steps",
             timeout=max(args.timeout, 120))
    el("job-cancel").click()
    wait_for(lambda: "cancelled" in text("job-stage") or "cancelled" in text("status"), "the training to stop")
    wait_for(lambda: not js("return !!cleave.state.job"), "the page to be free again")
    assert len(models()) == before, "a cancelled U-Net training made a model"
    set_value("train-steps", 40)
    el("update-once").click()
    wait_for(lambda: js("return !!cleave.state.prediction && cleave.state.prediction.modelVersion === arguments[0] && !cleave.state.job",
                        before + 1), "the U-Net's prediction", timeout=max(args.timeout, 300))
    newest = models()[-1]
    assert newest["method"] == "unet" and 1 <= newest["steps"] <= 40, newest
    caption = text("train-chart-caption")
    assert f"step {newest['steps']} of 40" in caption and (newest["steps"] == 40 or "stopped early" in caption), caption
    # The chart has its loss line drawn (blue pixels on the canvas).
    blue = js("""const c = document.getElementById('train-chart'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                 let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i + 2] > 180 && d[i] < 140 && d[i + 3] > 0) n++; return n;""")
    assert blue > 40, f"{blue} blue pixels: no loss line on the chart"
    links = {a.get_attribute("textContent"): a.get_attribute("href") for a in el("model-links").find_elements(By.TAG_NAME, "a")}
    assert set(links) == {"Cleave model", "ONNX"}, links
    status, onnx = http("GET", f"/api/models/{newest['id']}/model.onnx", raw=True)
    assert status == 200 and onnx[:1] == b"\x08" and b"cleave" in onnx[:200].lower(), (status, onnx[:40])
    status, model_json = http("GET", f"/api/models/{newest['id']}/model.json")
    assert status == 200 and "classes" in model_json, str(model_json)[:200]
    labels = tifffile.imread(io.BytesIO(http("GET", f"/api/predictions/{js('return cleave.state.prediction.id')}/labels.tif", raw=True)[1]))
    # 40 steps on a few strokes teach the network little; what is checked is that its result is a whole-image
    # label image of the project's classes (the agreement with the forest is printed for the record).
    print(f"        U-Net (40 steps) agrees with the forest's result on {float((labels == ctx['labels']).mean()):.3f} of the pixels")
    assert labels.shape == truth.shape and set(np.unique(labels)) <= set(ctx["classes"].values()), (labels.shape, np.unique(labels))
    shot("unet-trained-chart-and-links")
    js("""const m = document.getElementById('train-method'); m.value = 'forest'; m.dispatchEvent(new Event('change'));""")
    assert el("live-update").is_enabled()


def make_test_images():
    """The files a new user tried: 8-bit, RGB-stored greyscale, true colour, a 5-page stack."""
    rng = np.random.default_rng(22)
    y, x = np.mgrid[0:192, 0:256]
    eight = (100 + 40 * x / 255 + rng.normal(0, 2, x.shape)).clip(0, 255).astype(np.uint8)
    grey = np.where(x < 128, 70 + rng.normal(0, 3, x.shape), 170 + rng.normal(0, 25, x.shape)).clip(0, 255).astype(np.uint8)
    colour = np.stack([grey, 255 - grey, grey // 2], axis=-1)
    stack = np.empty((5, 128, 128), np.uint16)
    stack_truth = np.zeros((5, 128, 128), bool)
    yy, xx = np.mgrid[0:128, 0:128]
    for z in range(5):
        inside = np.zeros((128, 128), bool)
        for cx, cy in [(32 + 4 * z, 36), (88, 40 + 6 * z), (60, 92 - 2 * z)]:
            inside |= (xx - cx) ** 2 + (yy - cy) ** 2 <= 14 ** 2
        stack[z] = np.where(inside, 3000, 1000) + rng.integers(-150, 151, (128, 128))
        stack_truth[z] = inside
    paths = {}
    for name, array, extra in [("eight-bit.tif", eight, {}), ("grey-as-rgb.tif", np.stack([grey] * 3, axis=-1), {"photometric": "rgb"}),
                               ("true-colour.tif", colour, {"photometric": "rgb"}), ("stack.tif", stack, {})]:
        paths[name] = os.path.join(args.artifacts, name)
        tifffile.imwrite(paths[name], array, **extra)
    return paths, eight, stack_truth


def upload_through_page(path):
    name = os.path.basename(path)
    el("file-input").send_keys(os.path.abspath(path))
    wait_for(lambda: js("return cleave.state.image && cleave.state.image.name === arguments[0]", name), f"{name} opened")
    wait_for(lambda: js("const v = cleave.viewer; return [...v.tiles.values()].some((i) => i.complete && i.naturalWidth > 0)"), "its tiles")
    return js("return cleave.state.image")


@step("a new project starts clean: no messages or results of the previous one linger")
def _():
    ctx["defect_images"], ctx["eight"], ctx["stack_truth"] = make_test_images()
    set_value("project-name", "e2e defects")
    el("project-name").send_keys(Keys.ENTER)
    wait_for(lambda: js("return cleave.state.project && cleave.state.project.name === 'e2e defects'"), "the new project")
    lines = {i: text(i) for i in ["upload-status", "prediction-summary", "cluster-summary", "objects-summary", "export-status", "status"]}
    assert not any(lines.values()), f"messages of the previous project: {lines}"
    assert not el("cluster-result").is_displayed() and not el("fractions").is_displayed(), "results of the previous project"
    assert not driver.find_elements(By.CSS_SELECTOR, "#objects-table tbody tr"), "objects of the previous project"
    shot("new-project-clean")


@step("auto contrast stretches an 8-bit image to its 0.5–99.5 percentiles (defect 1)")
def _():
    upload_through_page(ctx["defect_images"]["eight-bit.tif"])
    assert (float(el("window-low").get_attribute("value")), float(el("window-high").get_attribute("value"))) == (0, 255)
    shot("eight-bit-full-range")
    key("a")
    low, high = np.percentile(ctx["eight"], [0.5, 99.5])
    wait_for(lambda: abs(float(el("window-low").get_attribute("value")) - low) < 1.01, "the percentile window in the fields")
    assert abs(float(el("window-high").get_attribute("value")) - high) < 1.01, (el("window-high").get_attribute("value"), high)
    wait_for(lambda: js("return [...cleave.viewer.tiles.values()].some((i) => i.src.includes('low=') && i.complete && i.naturalWidth > 0)"),
             "tiles drawn through the percentile window")
    shot("eight-bit-auto-contrast")


@step("the High window field shows a 5-digit value in full (minor)")
def _():
    for value in ["65535", "29800.5"]:
        js("document.getElementById('window-high').value = arguments[0]", value)
        width = js("const e = document.getElementById('window-high'); return [e.scrollWidth, e.clientWidth]")
        assert width[0] <= width[1], f"{value}: text {width[0]} px wide in a {width[1]} px field"
    key("a")


@step("greyscale stored as RGB is clustered; cluster colours stay apart at k = 8 (defect 2, minor)", needs=("jobs", "cluster"))
def _():
    image = upload_through_page(ctx["defect_images"]["grey-as-rgb.tif"])
    assert image["channels"] == 3, image
    key("l")
    set_value("cluster-count", 8)
    el("cluster-run").click()
    wait_for(lambda: len(driver.find_elements(By.CSS_SELECTOR, "#cluster-legend tbody tr")) == 8 or
                     "error" in el("cluster-summary").get_attribute("class"), "the legend of 8 clusters")
    assert "error" not in el("cluster-summary").get_attribute("class"), text("cluster-summary")
    colours = [c["colour"].lower() for c in js("return cleave.state.clustering.clusters")]
    assert len(set(colours)) == 8, colours
    assert not {"#e69f00", "#d55e00"} <= set(colours), f"orange and vermilion side by side: {colours}"
    wait_overlay("clusters")
    shot("grey-as-rgb-clustered-k8")


@step("true colour: a failed clustering shows its message, no earlier legend, Pick or Merge; a chosen channel clusters (defects 2, 3)",
      needs=("jobs", "cluster"))
def _():
    upload_through_page(ctx["defect_images"]["true-colour.tif"])
    assert el("cluster-channel-row").is_displayed(), "no channel choice for a colour image"
    set_value("cluster-count", 3)
    el("cluster-run").click()
    wait_for(lambda: "error" in el("cluster-summary").get_attribute("class"), "the clustering error")
    message = text("cluster-summary")
    assert "colour channels that differ" in message and "choose a channel" in message, message
    for hidden in ["cluster-legend", "pick-form", "merge-form"]:
        assert not el(hidden).is_displayed(), f"{hidden} still shown after a failed clustering"
    assert js("return cleave.state.clustering") is None and "clusters" not in js("return [...cleave.viewer.overlays.keys()]")
    shot("true-colour-refused-no-stale-legend")
    js("document.getElementById('cluster-channel').value = '1'")
    el("cluster-run").click()
    wait_for(lambda: len(driver.find_elements(By.CSS_SELECTOR, "#cluster-legend tbody tr")) == 3, "the legend of channel 1")
    assert el("pick-form").is_displayed() and js("return cleave.state.clustering.params.channel") == 1
    shot("true-colour-channel-1-clustered")


@step("a stack: planes shown, painted on two planes, trained and predicted; label TIFF has a page per plane (defect 4)",
      needs=("jobs", "classes", "predict"))
def _():
    image = upload_through_page(ctx["defect_images"]["stack.tif"])
    truth3 = ctx["stack_truth"]
    assert image["depth"] == 5, image
    item = driver.find_element(By.CSS_SELECTOR, f'#images li[data-id="{image["id"]}"]').text
    assert "×5 planes" in item, item
    assert el("plane-group").is_displayed(), "no plane slider for a stack"
    key("b")
    for name in ("disk", "background"):
        set_value("class-name", name)
        el("class-name").send_keys(Keys.ENTER)
        wait_for(lambda: name in js("return [...document.querySelectorAll('#classes li .name')].map((e) => e.textContent)"), f"class {name}")
    values = {c["name"]: c["value"] for c in http("GET", f"/api/projects/{js('return cleave.state.project.id')}/classes")[1]["classes"]}
    js("const s = document.getElementById('brush-size'); s.value = 10; s.dispatchEvent(new Event('input'));")
    for plane in (2, 0):
        while js("return cleave.viewer.plane") != plane:
            key("." if js("return cleave.viewer.plane") < plane else ",")
        assert text("plane-value").startswith(f"{plane + 1} / 5"), text("plane-value")
        wait_for(lambda: js("return [...cleave.viewer.tiles.values()].some((i) => (arguments[0] ? i.src.includes('plane=' + arguments[0]) : !i.src.includes('plane=')) && i.complete && i.naturalWidth > 0)", plane),
                 f"tiles of plane {plane}")
        before = saved_strokes()
        key("1")
        cx, cy = 32 + 4 * plane, 36
        paint([(cx - 6, cy), (cx + 6, cy)])
        wait_for(lambda: saved_strokes() == before + 1, "the disk stroke")
        key("2")
        paint([(8, 120), (40, 120)])
        wait_for(lambda: saved_strokes() == before + 2, "the background stroke")
        shot(f"stack-plane-{plane}-painted")
    strokes = http("GET", f"/api/images/{image['id']}/strokes")[1]["strokes"]
    assert sorted({s["plane"] for s in strokes}) == [0, 2], [s["plane"] for s in strokes]
    el("update-once").click()
    wait_for(lambda: "Model v" in text("prediction-summary") or "error" in el("prediction-summary").get_attribute("class"),
             "the stack prediction", timeout=max(args.timeout, 120))
    assert "error" not in el("prediction-summary").get_attribute("class"), text("prediction-summary")
    prediction = js("return cleave.state.prediction")
    assert prediction["region"].get("depth") == 5, prediction["region"]
    wait_overlay("prediction")
    while js("return cleave.viewer.plane") != 4:
        key(".")
    wait_for(lambda: js("const o = cleave.viewer.overlays.get('prediction'); return o.loaded && o.current.plane === 4"), "plane 4's classes")
    shot("stack-predicted-plane-4")
    path = os.path.join(downloads, "stack-labels.tif")
    driver.find_element(By.CSS_SELECTOR, '[data-export="labels"]').click()
    labels = tifffile.imread(wait_download("stack-labels.tif"))
    assert labels.shape == truth3.shape, labels.shape
    for z in range(5):
        right = np.mean((labels[z] == values["disk"]) == truth3[z])
        assert right > 0.95, f"plane {z}: {right:.3f} of pixels right"
    log(f"        stack: {[round(float(np.mean((labels[z] == values['disk']) == truth3[z])), 3) for z in range(5)]} right per plane")


@step("the step guide follows a first classification: classes, paint, train, check, accept, export (issue 22, item 5)",
      needs=("jobs", "classes", "predict"))
def _():
    set_value("project-name", "e2e guide")
    el("project-name").send_keys(Keys.ENTER)
    wait_for(lambda: js("return cleave.state.project && cleave.state.project.name === 'e2e guide'"), "the guide project")
    rng = np.random.default_rng(5)
    y, x = np.mgrid[0:96, 0:128]
    picture = np.where((x - 40) ** 2 + (y - 48) ** 2 < 20 ** 2, 60, 190) + rng.normal(0, 4, x.shape)
    path = os.path.join(args.artifacts, "guide-disk.tif")
    tifffile.imwrite(path, picture.clip(0, 255).astype(np.uint8))
    upload_through_page(path)
    next_step = lambda: js("const n = document.querySelector('#guide-steps li.next'); return n ? n.dataset.step : null")
    assert el("guide").is_displayed() and next_step() == "classes", (next_step(), text("guide-hint"))
    assert "Add two or more classes" in text("guide-hint"), text("guide-hint")
    key("b")
    for name in ("disk", "background"):
        set_value("class-name", name)
        el("class-name").send_keys(Keys.ENTER)
        wait_for(lambda: name in js("return [...document.querySelectorAll('#classes li .name')].map((e) => e.textContent)"), f"class {name}")
    wait_for(lambda: next_step() == "paint", "the guide at Paint")
    js("cleave.viewer.fit()")
    key("1")
    before = saved_strokes()
    paint([(34, 48), (46, 48)])
    wait_for(lambda: saved_strokes() == before + 1, "the disk stroke")
    assert next_step() == "paint", "one class painted is not enough"
    key("2")
    paint([(100, 20), (115, 20)])
    wait_for(lambda: next_step() == "train", "the guide at Train")
    el("update-once").click()
    wait_for(lambda: next_step() == "check", "the guide at Check", timeout=max(args.timeout, 120))
    assert "U shows where the classifier is unsure" in text("guide-hint"), text("guide-hint")
    key("u")
    wait_for(lambda: next_step() == "accept", "the guide at Accept")
    key("u")
    el("accept").click()
    wait_for(lambda: next_step() == "export", "the guide at Export")
    shot("guide-at-export")
    driver.find_element(By.CSS_SELECTOR, '[data-export="labels"]').click()
    wait_download("guide-disk-labels.tif")
    wait_for(lambda: next_step() is None and "Every step is done" in text("guide-hint"), "every step done")
    assert len(driver.find_elements(By.CSS_SELECTOR, "#guide-steps li.done")) == 6


def confirm_dialog(accept=True):
    """Waits for the page's confirm(), returns its text and accepts or dismisses it."""
    WebDriverWait(driver, args.timeout, poll_frequency=0.1).until(lambda d: _alert() is not None)
    alert = driver.switch_to.alert
    message = alert.text
    alert.accept() if accept else alert.dismiss()
    return message


def _alert():
    try:
        return driver.switch_to.alert
    except Exception:
        return None


def item_button(list_id, item_id, kind):
    """The rename (✎) or delete (✕) button of a project or image in the sidebar."""
    return driver.find_element(By.CSS_SELECTOR, f'#{list_id} li[data-id="{item_id}"] .item-actions button.{kind}')


@step("Automatic trains a forest and a U-Net and says which it kept and why, in the CLI's words (issue 22, item 2)",
      needs=("jobs", "classes", "predict"))
def _():
    set_value("project-name", "e2e manage")
    el("project-name").send_keys(Keys.ENTER)
    wait_for(lambda: js("return cleave.state.project && cleave.state.project.name === 'e2e manage'"), "the manage project")
    ctx["manage_project"] = js("return cleave.state.project.id")
    # Dark disks on a bright film; strokes of both classes in several 64-pixel blocks, so that the
    # held-out blocks and the training blocks both hold each class.
    rng = np.random.default_rng(9)
    y, x = np.mgrid[0:192, 0:256]
    disks = [(32, 32), (160, 40), (96, 140), (210, 150)]
    inside = np.zeros(x.shape, bool)
    for cx, cy in disks:
        inside |= (x - cx) ** 2 + (y - cy) ** 2 < 20 ** 2
    path = os.path.join(args.artifacts, "manage-disks.tif")
    tifffile.imwrite(path, (np.where(inside, 60, 190) + rng.normal(0, 6, x.shape)).clip(0, 255).astype(np.uint8))
    ctx["manage_image"] = upload_through_page(path)
    key("b")
    for name in ("disk", "film"):
        set_value("class-name", name)
        el("class-name").send_keys(Keys.ENTER)
        wait_for(lambda: name in js("return [...document.querySelectorAll('#classes li .name')].map((e) => e.textContent)"), f"class {name}")
    # Automatic first: it turns Live update off, so the strokes below train nothing yet.
    js("""const m = document.getElementById('train-method'); m.value = 'auto'; m.dispatchEvent(new Event('change'));""")
    assert not el("live-update").is_enabled() and not el("live-update").is_selected(), "Live update stays on for Automatic (it trains a U-Net too)"
    js("cleave.viewer.fit()")
    js("const s = document.getElementById('brush-size'); s.value = 6; s.dispatchEvent(new Event('input'));")
    for number, lines in (("1", [[(cx - 10, cy), (cx + 10, cy)] for cx, cy in disks]),
                          ("2", [[(4, 4), (60, 4)], [(100, 90), (140, 90)], [(180, 100), (240, 100)], [(10, 180), (50, 180)]])):
        key(number)
        for line in lines:
            before = saved_strokes()
            paint(line)
            wait_for(lambda: saved_strokes() == before + 1, "the stroke")
    wait_for(lambda: not js("return !!cleave.state.job"), "the page to be free")
    assert not http("GET", f"/api/projects/{ctx['manage_project']}/models")[1]["models"], "a model before Train & predict"
    assert el("forest-settings").is_displayed() and el("train-steps").is_displayed(), "Automatic needs both methods' settings"
    set_value("train-steps", 12)
    el("update-once").click()
    wait_for(lambda: js("return !!cleave.state.prediction && cleave.state.prediction.modelVersion === 1 && !cleave.state.job")
             or "error" in el("status").get_attribute("class"),
             "the automatic model's prediction", timeout=max(args.timeout, 300))
    assert "error" not in el("status").get_attribute("class"), text("status")
    model = http("GET", f"/api/projects/{ctx['manage_project']}/models")[1]["models"][-1]
    selection = model.get("selection")
    assert selection and selection["chosen"] in ("forest", "unet"), model
    chosen = "U-Net" if selection["chosen"] == "unet" else "random forest"
    shown = text("method-choice")
    # The same words as `cleave train --method auto` prints after "method: rf — ".
    assert shown == f"Automatic kept the {chosen}: {selection['reason']}", (shown, selection)
    assert "held-out mean IoU: U-Net" in selection["reason"] and "forest" in selection["reason"], selection["reason"]
    assert (model.get("method") or "forest") == selection["chosen"], model
    log(f"        automatic: {shown}")
    shot("automatic-method-kept")
    js("""const m = document.getElementById('train-method'); m.value = 'forest'; m.dispatchEvent(new Event('change'));""")


@step("images and projects are renamed in place (issue 22, item 5)", needs=("jobs", "classes", "predict"))
def _():
    image = ctx["manage_image"]
    item_button("images", image["id"], "rename").click()
    field = driver.find_element(By.CSS_SELECTOR, f'#images li[data-id="{image["id"]}"] input.rename-input')
    assert field.get_attribute("value") == "manage-disks.tif", field.get_attribute("value")
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys("disks renamed.tif", Keys.ENTER)
    wait_for(lambda: js("return cleave.state.image.name") == "disks renamed.tif", "the renamed image")
    wait_for(lambda: driver.find_element(By.CSS_SELECTOR, f'#images li[data-id="{image["id"]}"] .label').text == "disks renamed.tif",
             "the new name in the list")
    assert http("GET", f"/api/images/{image['id']}")[1]["name"] == "disks renamed.tif"
    # Escape keeps the old name.
    item_button("projects", ctx["manage_project"], "rename").click()
    field = driver.find_element(By.CSS_SELECTOR, f'#projects li[data-id="{ctx["manage_project"]}"] input.rename-input')
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys("never saved", Keys.ESCAPE)
    wait_for(lambda: not driver.find_elements(By.CSS_SELECTOR, "#projects input.rename-input"), "the field gone after Escape")
    time.sleep(0.3)
    name = http("GET", f"/api/projects/{ctx['manage_project']}")[1]["name"]
    assert name == "e2e manage", f"Escape saved the name: {name!r}"
    item_button("projects", ctx["manage_project"], "rename").click()
    field = driver.find_element(By.CSS_SELECTOR, f'#projects li[data-id="{ctx["manage_project"]}"] input.rename-input')
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys("e2e manage (renamed)", Keys.ENTER)
    wait_for(lambda: js("return cleave.state.project.name") == "e2e manage (renamed)", "the renamed project in the page")
    assert http("GET", f"/api/projects/{ctx['manage_project']}")[1]["name"] == "e2e manage (renamed)"
    events = {e["type"] for e in http("GET", "/api/events", user=ctx["user"])[1]["events"]}
    assert {"image.rename", "project.rename"} <= events, events
    shot("renamed-in-place")


@step("deleting a painted class asks first, naming its strokes; discarded strokes are kept (issue 22, item 5)",
      needs=("jobs", "classes", "predict"))
def _():
    image = ctx["manage_image"]
    set_value("class-name", "crack")
    el("class-name").send_keys(Keys.ENTER)
    wait_for(lambda: "crack" in js("return [...document.querySelectorAll('#classes li .name')].map((e) => e.textContent)"), "class crack")
    crack = next(c for c in http("GET", f"/api/projects/{ctx['manage_project']}/classes")[1]["classes"] if c["name"] == "crack")
    before = saved_strokes()
    key("3")
    paint([(120, 20), (140, 20)])
    wait_for(lambda: saved_strokes() == before + 1, "the crack stroke")
    delete = driver.find_element(By.CSS_SELECTOR, f'#classes li[data-value="{crack["value"]}"] button.delete')
    delete.click()
    message = confirm_dialog(accept=False)
    assert "“crack”" in message and "1 stroke" in message and "discarded" in message, message
    time.sleep(0.3)
    assert any(c["name"] == "crack" for c in http("GET", f"/api/projects/{ctx['manage_project']}/classes")[1]["classes"]), "deleted without consent"
    driver.find_element(By.CSS_SELECTOR, f'#classes li[data-value="{crack["value"]}"] button.delete').click()
    confirm_dialog(accept=True)
    wait_for(lambda: "crack" not in js("return [...document.querySelectorAll('#classes li .name')].map((e) => e.textContent)"),
             "the class gone from the panel")
    assert text("status") == "Class “crack” deleted (1 stroke discarded)", text("status")
    strokes = http("GET", f"/api/images/{image['id']}/strokes?include=undone")[1]["strokes"]
    assert [s["state"] for s in strokes if s["class"] == crack["value"]] == ["discarded"], strokes
    assert saved_strokes() == before, "the discarded stroke is still drawn"
    shot("class-deleted-strokes-discarded")


@step("deleting an image and then its project asks first with the counts; their files go (issue 22, item 5)",
      needs=("jobs", "classes", "predict"))
def _():
    image = ctx["manage_image"]
    blob = os.path.join(args.data, "blobs", image["sha256"][:2], image["sha256"][2:4], image["sha256"])
    assert os.path.exists(blob), blob
    counts = http("GET", f"/api/images/{image['id']}/deletion")[1]
    item_button("images", image["id"], "delete").click()
    message = confirm_dialog(accept=True)
    assert "“disks renamed.tif”" in message and f"{counts['strokes']} strokes" in message and \
        f"{counts['predictions']} result" in message, (message, counts)
    wait_for(lambda: http("GET", f"/api/images/{image['id']}")[0] == 404, "the image deleted")
    wait_for(lambda: not driver.find_elements(By.CSS_SELECTOR, f'#images li[data-id="{image["id"]}"]'), "the image gone from the list")
    assert js("return cleave.state.image") is None and el("empty").is_displayed(), "the deleted image is still open"
    assert not os.path.exists(blob), "its file stays in the blob store"
    assert not os.path.exists(os.path.join(args.data, "tiles", image["id"])), "its cached tiles stay"
    shot("image-deleted")
    project = ctx["manage_project"]
    counts = http("GET", f"/api/projects/{project}/deletion")[1]
    assert counts["models"] >= 1 and counts["classes"] == 2 and counts["images"] == 0, counts
    item_button("projects", project, "delete").click()
    message = confirm_dialog(accept=False)
    assert "“e2e manage (renamed)”" in message and f"{counts['models']} trained model" in message and "2 classes" in message, message
    assert http("GET", f"/api/projects/{project}")[0] == 200, "deleted without consent"
    item_button("projects", project, "delete").click()
    confirm_dialog(accept=True)
    wait_for(lambda: http("GET", f"/api/projects/{project}")[0] == 404, "the project deleted")
    wait_for(lambda: not driver.find_elements(By.CSS_SELECTOR, f'#projects li[data-id="{project}"]'), "the project gone from the list")
    assert js("return cleave.state.project && cleave.state.project.id") != project
    db = sqlite3.connect(os.path.join(args.data, "cleave.sqlite"))
    left = [db.execute(f"SELECT COUNT(*) FROM {table} WHERE project_id = ?", (project,)).fetchone()[0]
            for table in ("images", "classes", "models", "jobs")]
    actions = [row[0] for row in db.execute("SELECT action FROM audit WHERE action LIKE 'delete.%'")]
    db.close()
    assert left == [0, 0, 0, 0], left
    assert {"delete.image", "delete.project", "delete.class"} <= set(actions), actions
    shot("project-deleted")


def rgb_at(x, y):
    """The canvas's colour at image pixel (x, y) (the composite as drawn, before overlays)."""
    return js("""const v = cleave.viewer, c = v.canvas, r = devicePixelRatio || 1;
                 const sx = Math.round(((arguments[0] + 0.5 - v.originX) * v.scale) * r), sy = Math.round(((arguments[1] + 0.5 - v.originY) * v.scale) * r);
                 const d = c.getContext('2d').getImageData(sx, sy, 1, 1).data; return [d[0], d[1], d[2]];""", float(x), float(y))


@step("a 3-channel image: per-channel windows, colours and on/off make the composite; Auto per channel (issue 22, item 1)")
def _():
    set_value("project-name", "e2e channels")
    el("project-name").send_keys(Keys.ENTER)
    wait_for(lambda: js("return cleave.state.project && cleave.state.project.name === 'e2e channels'"), "the channels project")
    # Channel 0: bright left half; channel 1: a bright disk; channel 2: a dim gradient (16-bit, different ranges).
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:160, 0:240]
    c0 = np.where(x < 120, 3000, 400) + rng.integers(-50, 51, x.shape)
    c1 = np.where((x - 170) ** 2 + (y - 80) ** 2 < 30 ** 2, 9000, 1000) + rng.integers(-80, 81, x.shape)
    c2 = 100 + x
    stack = np.stack([c0, c1, c2], axis=-1).astype(np.uint16)
    path = os.path.join(args.artifacts, "three-channels.tif")
    tifffile.imwrite(path, stack, photometric="rgb")
    image = upload_through_page(path)
    assert image["channels"] == 3, image
    wait_for(lambda: el("channels-section").is_displayed(), "the channels panel")
    assert not el("window-fields").is_displayed(), "the single window is shown for a multi-channel image"
    wait_for(lambda: js("return [...cleave.viewer.tiles.values()].some((i) => i.src.includes('channels=') && i.complete && i.naturalWidth > 0)"),
             "composite tiles")
    js("cleave.viewer.fit()")
    time.sleep(0.3)
    # Default: each channel's 0.5–99.5 percentiles (16-bit), red, green and blue.
    rows = driver.find_elements(By.CSS_SELECTOR, "#channels tr")
    assert len(rows) == 3, len(rows)
    left, disk = rgb_at(40, 20), rgb_at(170, 80)
    assert left[0] > 200 and disk[1] > 200 and disk[0] < 60, (left, disk)
    shot("channels-composite-default")
    # Channel 0 off: the left half loses its red.
    rows[0].find_element(By.CSS_SELECTOR, ".channel-on").click()
    wait_for(lambda: rgb_at(40, 20)[0] < 40, "channel 0 switched off")
    assert "0:" not in js("return cleave.viewer.composite").split(",")[0][:2], js("return cleave.viewer.composite")
    # Channel 1 in white with a window that saturates the background too.
    js("""const c = document.querySelector('#channels tr[data-channel="1"] .channel-colour'); c.value = '#ffffff'; c.dispatchEvent(new Event('change'));""")
    low = rows[1].find_element(By.CSS_SELECTOR, ".channel-low")
    high = rows[1].find_element(By.CSS_SELECTOR, ".channel-high")
    for field, value in ((low, "0"), (high, "1000")):
        js("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('change'))", field, value)
    wait_for(lambda: min(rgb_at(40, 20)) > 200 and min(rgb_at(170, 80)) > 240, "channel 1 white through 0–1000")
    shot("channels-one-off-one-white")
    # Auto on channel 1: its own 0.5–99.5 percentiles (the panel is drawn anew: fields looked up each time).
    rows[1].find_element(By.CSS_SELECTOR, ".channel-auto").click()
    value = lambda channel, which: float(js("return document.querySelector(`#channels tr[data-channel='${arguments[0]}'] .channel-${arguments[1]}`).value",
                                            channel, which))
    want = np.percentile(c1.astype(np.uint16), [0.5, 99.5])
    wait_for(lambda: abs(value(1, "low") - want[0]) < 1.01, "channel 1's auto window")
    assert abs(value(1, "high") - want[1]) < 1.01, (value(1, "high"), want)
    spec = js("return cleave.viewer.composite")
    assert spec.startswith("1:") and ",2:" in spec and "ffffff" in spec, spec
    # A: every channel that is on gets its auto window (channel 2 set away from it first).
    for which, number in (("high", "5000"), ("low", "0")):
        js("const e = document.querySelector(`#channels tr[data-channel='2'] .channel-${arguments[0]}`); e.value = arguments[1]; e.dispatchEvent(new Event('change'))",
           which, number)
    assert value(2, "low") == 0 and value(2, "high") == 5000
    key("a")
    want2 = np.percentile(c2.astype(np.uint16), [0.5, 99.5])
    wait_for(lambda: abs(value(2, "low") - want2[0]) < 1.01 and abs(value(2, "high") - want2[1]) < 1.01, "channel 2's auto window from A")
    js("return cleave.flush()")
    events = [e for e in http("GET", "/api/events", user=ctx["user"])[1]["events"] if e["type"] == "channels.change"]
    assert {e["payload"]["what"] for e in events} >= {"on", "colour", "window", "auto"}, [e["payload"]["what"] for e in events]
    shot("channels-auto")


@step("a stack's orthogonal views: XZ and YZ through the Alt-clicked row and column, the plane marked (issue 22, item 1)")
def _():
    set_value("project-name", "e2e stack views")
    el("project-name").send_keys(Keys.ENTER)
    wait_for(lambda: js("return cleave.state.project && cleave.state.project.name === 'e2e stack views'"), "the stack project")
    # 6 planes of 96×80: a bright disk whose centre moves right by 8 pixels per plane.
    z, y, x = np.mgrid[0:6, 0:80, 0:96]
    stack = np.where((x - (20 + 8 * z)) ** 2 + (y - 40) ** 2 < 10 ** 2, 4000, 500).astype(np.uint16)
    path = os.path.join(args.artifacts, "moving-disk.tif")
    tifffile.imwrite(path, stack)
    image = upload_through_page(path)
    assert image["depth"] == 6, image
    el("ortho-toggle").click()
    loaded = lambda axis: js("const c = document.getElementById(arguments[0]); return c.dataset.src ? [c.dataset.src, +c.dataset.naturalWidth, +c.dataset.naturalHeight] : null", f"ortho-{axis}")
    wait_for(lambda: loaded("xz") and loaded("yz"), "both orthogonal views")
    assert loaded("xz")[1:] == [96, 6] and loaded("yz")[1:] == [6, 80], (loaded("xz"), loaded("yz"))
    assert "at=40" in loaded("xz")[0] and "at=48" in loaded("yz")[0], (loaded("xz")[0], loaded("yz")[0])
    # The served XZ slice is the row's voxels: bright where the disk crosses row 40 on each plane.
    status, png = http("GET", "/api/images/" + image["id"] + "/orthogonal/xz.png?at=40&low=500&high=4000", raw=True)
    assert status == 200 and png[:4] == b"\x89PNG", status
    shot("orthogonal-views-middle")
    # Alt-click with the brush on: the views move to that row and column; nothing is painted.
    key("b")
    before = saved_strokes()
    sx, sy = to_screen(36.5, 40.5)
    ActionChains(driver).key_down(Keys.ALT).move_to_element_with_offset(el("canvas"), int(sx), int(sy)).click().key_up(Keys.ALT).perform()
    wait_for(lambda: "at=36" in (loaded("yz") or [""])[0], "YZ at column 36")
    assert "at=40" in loaded("xz")[0], loaded("xz")[0]
    time.sleep(0.3)
    assert saved_strokes() == before, "the Alt-click painted a stroke"
    assert "column 36" in text("ortho-caption"), text("ortho-caption")
    # The plane marker follows the plane shown (yellow line in XZ at plane 2's band).
    while js("return cleave.viewer.plane") != 2:
        key(".")
    band = js("""const c = document.getElementById('ortho-xz'), g = c.getContext('2d'), h = c.height / 6;
                 const row = g.getImageData(0, Math.floor(2.5 * h), c.width, 1).data;
                 let yellow = 0; for (let i = 0; i < row.length; i += 4) if (row[i] > 200 && row[i + 1] > 180 && row[i + 2] < 120) yellow++;
                 return [yellow, c.width];""")
    assert band[0] > band[1] * 0.8, f"no plane line at plane 3 of XZ: {band}"
    shot("orthogonal-views-alt-click-plane-3")
    el("ortho-toggle").click()
    assert not el("ortho").is_displayed()


def post_archive(data, query=""):
    """POSTs a zip to /api/projects/import; returns (status, parsed JSON)."""
    request = urllib.request.Request(args.base + "/api/projects/import" + query, data=data, method="POST")
    request.add_header("Content-Type", "application/zip")
    request.add_header("X-Cleave-User", "e2e-import-user")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def import_through_button(path, expect_error=False):
    """Chooses a zip with the Import project… control; waits for the status line."""
    js("document.getElementById('import-status').textContent = ''")
    el("import-input").send_keys(path)
    wait_for(lambda: text("import-status").startswith("Imported") or "error" in el("import-status").get_attribute("class"),
             f"the import of {os.path.basename(path)}", timeout=max(args.timeout, 120))
    return text("import-status")


@step("import a project export zip: the Import button, Python's zipfile with deflate and zip64, hostile zips refused (issue 23)",
      needs=("export",))
def _():
    source = ctx.get("reference_zip")
    if not source:
        raise Skip("no exported zip from the export step")
    projects_before = {p["id"] for p in http("GET", "/api/projects")[1]["projects"]}
    # 1. Cleave's own export through the button: progress, then the new project is selected.
    line = import_through_button(source)
    assert line.startswith("Imported") and "(imported)" in line, line
    shot("imported-project")
    wait_for(lambda: "(imported)" in text("projects"), "the imported project in the list")
    projects = http("GET", "/api/projects")[1]["projects"]
    new = [p for p in projects if p["id"] not in projects_before]
    assert len(new) == 1 and new[0]["name"].endswith("(imported)"), new
    # Its images have the exported bytes and its reference labels are the exported ones where painted.
    original = zipfile.ZipFile(source)
    meta = json.loads(original.read("metadata.json"))
    images = http("GET", f"/api/projects/{new[0]['id']}/images")[1]["images"]
    assert sorted(i["sha256"] for i in images) == sorted(i["sha256"] for i in meta["images"]), "image digests differ"
    for entry in meta["images"]:
        image = next(i for i in images if i["sha256"] == entry["sha256"] and i["name"] == entry["name"])
        status, body = http("GET", f"/api/images/{image['id']}/reference/labels.tif", raw=True)
        labels = tifffile.imread(io.BytesIO(body))
        exported = tifffile.imread(io.BytesIO(original.read(entry["labels"])))
        provenance = tifffile.imread(io.BytesIO(original.read(entry["provenance"])))
        painted = provenance == 2
        assert np.array_equal(labels[painted], exported[painted]), "painted labels differ after the import"

    # 2. The same export rewritten by Python's zipfile: deflate, one entry in zip64 form, a directory entry.
    rewritten = os.path.join(downloads, "python-deflate.zip")
    with zipfile.ZipFile(rewritten, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        out.writestr("images/", b"")
        for info in original.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(2026, 12, 7, 12, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            with out.open(entry, "w", force_zip64=info.filename.startswith("labels/")) as target:
                target.write(original.read(info.filename))
    assert any(i.compress_type == zipfile.ZIP_DEFLATED for i in zipfile.ZipFile(rewritten).infolist())
    status, body = post_archive(open(rewritten, "rb").read(), "?name=Python%20zipfile")
    assert status == 201 and body["project"]["name"] == "Python zipfile", (status, body)
    assert body["images"] == len(meta["images"]) and body["ignoredEntries"] == [], body

    # 3. Hostile zips through the button: one error line each, nothing added.
    def hostile(name, build):
        path = os.path.join(downloads, name)
        with zipfile.ZipFile(path, "w") as out:
            build(out)
        return path
    cases = {
        "traversal": (hostile("traversal.zip", lambda z: [z.writestr(i, original.read(i)) for i in original.namelist()]
                              + [z.writestr("../../evil.sh", b"rm -rf /")]), "path traversal"),
        "newer": (hostile("newer.zip", lambda z: [z.writestr(i, original.read(i) if i != "metadata.json"
                                                             else json.dumps({**meta, "formatVersion": 99}).encode())
                                                  for i in original.namelist()]), "newer Cleave"),
        "no manifest": (hostile("nomanifest.zip", lambda z: [z.writestr(i, original.read(i)) for i in original.namelist()
                                                             if i != "metadata.json"]), "no metadata.json"),
    }
    before = len(http("GET", "/api/projects")[1]["projects"])
    for label, (path, words) in cases.items():
        line = import_through_button(path, expect_error=True)
        assert "error" in el("import-status").get_attribute("class") and words in line and "\n" not in line, f"{label}: {line}"
    shot("import-refused")
    assert len(http("GET", "/api/projects")[1]["projects"]) == before, "a refused import left a project"
    leftovers = os.listdir(os.path.join(args.data, "tmp"))
    assert leftovers == [], f"temporary files left: {leftovers}"


severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE" and "favicon" not in entry["message"]]
driver.quit()
with open(os.path.join(args.artifacts, "results.json"), "w") as f:
    json.dump({"results": results, "recluster_seconds": ctx.get("recluster_seconds"), "console": severe}, f, indent=1)
passed = sum(1 for r in results if r[1] == "pass")
failed = sum(1 for r in results if r[1] == "fail")
skipped = [f"{r[0]}: {r[2]}" for r in results if r[1] == "skip"]
if severe:
    log(f"        browser console errors: {[e['message'][:200] for e in severe]}")
line = f"browser: {passed} passed, {failed} failed"
if skipped:
    line += f", {len(skipped)} skipped ({'; '.join(skipped)})"
print(line)
sys.exit(1 if failed else 0)
