"""The docs pipeline as far as it goes without Quarto: `nbdev_proc_nbs` succeeds, every processed notebook renders to
HTML with nbconvert, and every public symbol of the package has a doc entry (a rendered `show_doc` for functions and
classes, a mention in the prose of its notebook for constants and type aliases); no page holds a Python traceback; and
headless Chromium looks at the home page, a tutorial and an API page: each screenshot (kept in `_proc/screenshots/`,
out of git) must not be blank, and every image on the page must load (the tutorial must have a plot)."""
import importlib, inspect, json, re, shutil, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def run(cmd:list[str], what:str):
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if r.returncode: sys.exit(f"FAIL: {what} failed ({' '.join(cmd)}):\n{(r.stdout + r.stderr)[-3000:]}")

def texts(cell:dict, kind:str) -> str:
    "The text of a cell's source (kind 'source') or of its outputs (kind 'outputs')."
    if kind == "source": return "".join(cell["source"])
    out = []
    for o in cell.get("outputs", []):
        out += [o.get("text", "")] + ["".join(v) if isinstance(v, list) else str(v) for v in o.get("data", {}).values()]
    return "\n".join(map(str, out))

def module_notebooks() -> dict[str, Path]:
    "Module name -> its processed notebook (the `default_exp` of the source notebook of the same name)."
    out = {}
    for nb in sorted((ROOT/"nbs").glob("*.ipynb")):
        src = "\n".join(texts(c, "source") for c in json.loads(nb.read_text())["cells"])
        if m := re.search(r"^#\|\s*default_exp\s+(\S+)", src, re.M): out[m.group(1)] = ROOT/"_proc"/nb.name
    return out

def missing_doc_entries() -> list[str]:
    "Public symbols without a doc entry in their module's processed notebook."
    missing, notebooks = [], module_notebooks()
    from randprune._modidx import d
    modules = {m.removeprefix("randprune.") for m in d["syms"]}
    if set(notebooks) != modules: sys.exit(f"FAIL: modules {sorted(modules)} vs notebooks with default_exp {sorted(notebooks)}")
    for name, nb in notebooks.items():
        mod = importlib.import_module(f"randprune.{name}")
        cells = json.loads(nb.read_text())["cells"]
        rendered = "\n".join(texts(c, "outputs") for c in cells if "show_doc" in texts(c, "source"))
        prose = "\n".join(texts(c, "source") for c in cells if c["cell_type"] == "markdown")
        for sym in getattr(mod, "__all__", []):
            obj = getattr(mod, sym)
            documented = (re.search(rf"^#+\s+{re.escape(sym)}\b", rendered, re.M) if inspect.isfunction(obj) or inspect.isclass(obj)
                          else re.search(rf"`{re.escape(sym)}`", prose))
            if not documented: missing.append(f"randprune.{name}.{sym} ({nb.name})")
    return missing

BROWSER_PAGES = {"index": 0, "sampler": 1, "00_core": 0} # page -> the images it must at least have (a tutorial's plots)
IMAGE_CHECK = ("<script>addEventListener('load', () => { const i = [...document.images]; document.title = 'IMAGES ' + "
               "i.length + ' ' + i.filter(x => !(x.complete && x.naturalWidth > 0)).length; });</script>")

def chromium(*args) -> str:
    "Output of headless Chromium with `args`."
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe: sys.exit("FAIL: headless Chromium not found (apt-get install chromium)")
    r = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args],
                       capture_output=True, text=True, timeout=120)
    return r.stdout

def look_at(page:Path, min_images:int, shots:Path) -> str|None:
    "What is wrong with `page` in a real browser (None if nothing): blank, or an image missing or broken."
    from matplotlib.image import imread
    import numpy as np
    shot = shots/f"{page.stem}.png"
    chromium("--window-size=1280,1600", f"--screenshot={shot}", page.as_uri())
    if not shot.exists(): return "no screenshot taken"
    px = imread(shot)[..., :3].reshape(-1, 3)
    if (np.abs(px - np.median(px, 0)).sum(1) > .1).mean() < .005: return f"blank page (screenshot {shot})"
    probe = page.with_name(f"{page.stem}.probe.html")
    probe.write_text(page.read_text().replace("</body>", IMAGE_CHECK + "</body>"))
    m = re.search(r"<title>IMAGES (\d+) (\d+)</title>", chromium("--virtual-time-budget=5000", "--dump-dom", probe.as_uri()))
    if not m: return "the image check did not run"
    n, broken = map(int, m.groups())
    if broken: return f"{broken} of {n} images missing or broken"
    if n < min_images: return f"{n} images, expected at least {min_images} (plots)"

def main():
    shutil.rmtree(ROOT/"_proc", ignore_errors=True)
    run(["nbdev_proc_nbs"], "nbdev_proc_nbs")
    nbs = sorted((ROOT/"_proc").rglob("*.ipynb"))
    if not nbs: sys.exit("FAIL: nbdev_proc_nbs made no notebooks")
    with tempfile.TemporaryDirectory() as html:
        for nb in nbs:
            run(["jupyter", "nbconvert", "--to", "html", "--log-level", "ERROR", "--output-dir", html,
                 "--output", nb.stem, str(nb)], f"HTML render of {nb.relative_to(ROOT)}")
            page = Path(html)/f"{nb.stem}.html"
            if page.stat().st_size < 1000: sys.exit(f"FAIL: {page.name} is nearly empty")
            if "Traceback (most recent call last)" in re.sub(r"<[^>]+>", "", page.read_text()): sys.exit(f"FAIL: {page.name} shows a Python traceback")
        shots = ROOT/"_proc"/"screenshots"; shots.mkdir(exist_ok=True)
        problems = {name: look_at(Path(html)/f"{name}.html", n, shots) for name, n in BROWSER_PAGES.items()}
        if bad := {k: v for k, v in problems.items() if v}: sys.exit(f"FAIL: in the browser: {bad}")
    sidebar = (ROOT/"nbs"/"sidebar.yml").read_text()
    unlisted = [str(nb.relative_to(ROOT/"_proc")) for nb in nbs if str(nb.relative_to(ROOT/"_proc")) not in sidebar]
    if unlisted: sys.exit(f"FAIL: notebooks missing from nbs/sidebar.yml: {unlisted}")
    missing = missing_doc_entries()
    if missing: sys.exit("FAIL: public symbols without a doc entry:\n  " + "\n  ".join(missing))
    print(f"docs: {len(nbs)} notebooks processed and rendered to HTML, every public symbol documented, "
          f"{len(BROWSER_PAGES)} pages looked at in Chromium (screenshots in _proc/screenshots)")

if __name__ == "__main__": main()
