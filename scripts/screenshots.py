"""Phone (390 px) and desktop screenshots of home, a source page and a country page.

Usage: .venv/bin/python scripts/screenshots.py site docs/screenshots   (after `bash scripts/build.sh`)
"""
import sys
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
from pathlib import Path
from builder.render.serve import start
from playwright.sync_api import sync_playwright
site, dest = Path(sys.argv[1]), Path(sys.argv[2]); dest.mkdir(parents=True, exist_ok=True)
server, stop = start(site, 0, lambda: None, [], interval=600)
base = f"http://127.0.0.1:{server.server_address[1]}/"
pages = [("home", ""), ("source", "sources/coco2-15522/"), ("country", "countries/pol/")]
with sync_playwright() as pw:
    b = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
    for dev, vp, mobile in [("desktop", {"width": 1280, "height": 900}, False), ("phone", {"width": 390, "height": 844}, True)]:
        ctx = b.new_context(viewport=vp, is_mobile=mobile, has_touch=mobile, device_scale_factor=1)
        pg = ctx.new_page()
        for name, path in pages:
            pg.goto(base + path); pg.wait_for_load_state("networkidle"); pg.wait_for_timeout(1200)
            pg.screenshot(path=str(dest / f"{name}-{dev}.png"), full_page=False)
        ctx.close()
    b.close()
stop.set(); server.shutdown()
