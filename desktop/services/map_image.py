"""Draw a LibraryMap with Qt's painter: the GUI's map view and `genre-tagger map -o map.png` share it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np

from desktop.core.errors import GenreTaggerError
from desktop.core.output_files import check_output
from desktop.core.safe_write import atomic_write, atomic_write_text
from desktop.services.library_map import GREY, LibraryMap

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PAGE_TITLE = "<title>Genre Tagger: library map</title>"  # how a page this app wrote is known again

PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#9a9a00", "#d37295", "#8cd17d", "#b6992d", "#499894", "#e49444", "#79706e"]
GREY_COLOUR = "#c8c8c8"


def colours_for(names: list[str]) -> dict[str, str]:
    """A colour per genre (uncertain and untagged grey), stable for the order given."""
    out, n = {}, 0
    for name in names:
        if name in GREY or not name:
            out[name] = GREY_COLOUR
        else:
            out[name] = PALETTE[n % len(PALETTE)]
            n += 1
    return out


def point_size(n: int) -> float:
    """Pixels per point: 3 for a big library, up to 8 for a small one (60 tracks in 3-pixel dots were hard to see)."""
    return float(np.clip(400 / np.sqrt(max(n, 1)), 3.0, 8.0))


def paint_points(painter, xy_px: np.ndarray, keys: list[str], colours: dict[str, str], size: float = 3.0) -> None:
    """Draw points [n, 2] (pixels) grouped by colour: one drawPoints call per genre keeps 100,000 points fast."""
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QColor, QPen

    order: dict[str, list[int]] = {}
    for n, key in enumerate(keys):
        order.setdefault(key, []).append(n)
    for key in sorted(order, key=lambda k: k not in GREY):  # grey first, so genres draw on top of them
        pen = QPen(QColor(colours.get(key, GREY_COLOUR)))
        pen.setWidthF(size)
        painter.setPen(pen)
        painter.drawPoints([QPointF(float(x), float(y)) for x, y in xy_px[order[key]]])


LEGEND_WIDTH, LEGEND_ROW = 220, 18


def legend_lines(metrics, names: list[str], counts: dict[str, int], rows: int) -> list[str]:
    """The legend's text: each name shortened so its count still shows; past `rows` lines, "… and N more"."""
    from PySide6.QtCore import Qt

    shown = names if len(names) <= rows else names[: max(0, rows - 1)]
    lines = []
    for name in shown:
        count = f" ({counts[name]})"
        room = LEGEND_WIDTH - metrics.horizontalAdvance(count)
        lines.append(metrics.elidedText(name, Qt.TextElideMode.ElideRight, room) + count)
    if len(shown) < len(names):
        lines.append(f"… and {len(names) - len(shown)} more")
    return lines


def paint_legend(painter, x: float, y: float, names: list[str], counts: dict[str, int], colours: dict[str, str],
                 height: float | None = None, text_colour: str = "#222222") -> None:
    """Genre swatches with their track counts, top-left at (x, y), in at most `height` pixels."""
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QColor

    rows = len(names) if height is None else max(1, int(height // LEGEND_ROW))
    swatches = len(names) if len(names) <= rows else rows - 1  # the last row then says how many more
    for n, line in enumerate(legend_lines(painter.fontMetrics(), names, counts, rows)):
        top = y + n * LEGEND_ROW
        if n < swatches:
            painter.fillRect(QRectF(x, top + 4, 10, 10), QColor(colours[names[n]]))
        painter.setPen(QColor(text_colour))
        painter.drawText(QRectF(x + 16, top, LEGEND_WIDTH, LEGEND_ROW), 0x0081, line)  # AlignLeft | AlignVCenter


def render_png(m: LibraryMap, out: str | Path, width: int = 1200, height: int = 900, by_file_genre: bool = False,
               force: bool = False) -> Path:
    """Save the map as a PNG (no display needed: Qt's offscreen platform draws it); never over music or other files."""
    import os

    out = Path(out)
    check_output(out, "map image", (".png",), lambda head: head.startswith(PNG_SIGNATURE), force)

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 (fonts need an application)
    keys = m.colour_keys(by_file_genre)
    counts = Counter(keys)
    names = sorted(counts, key=lambda k: (k in GREY, -counts[k], k))
    colours = colours_for(names)
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    margin, legend = 20, 240
    area = np.array([width - legend - 2 * margin, height - 2 * margin], np.float32)
    paint_points(painter, m.xy * area + margin, keys, colours, point_size(len(m)))
    paint_legend(painter, width - legend, margin, names, counts, colours, height - 2 * margin)
    painter.end()

    # Made in memory and written as bytes: Qt writing the file itself said only that it failed ("is the folder
    # writable?" of a full disk), and libpng printed "Write Error" beside it.
    png = QByteArray()
    buffer = QBuffer(png)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    try:
        atomic_write(out, lambda tmp: tmp.write_bytes(png.data()))
    except OSError as exc:
        raise GenreTaggerError(out, f"cannot write the image ({exc.strerror or exc})") from exc
    return out


HTML = """<!doctype html><meta charset="utf-8">""" + PAGE_TITLE + """
<style>body{margin:0;font:13px sans-serif}canvas{display:block}#tip{position:fixed;background:#fff;border:1px solid #999;
padding:3px 6px;display:none;pointer-events:none}#legend{position:fixed;right:8px;top:8px;background:#fffc;padding:6px}</style>
<canvas id="c"></canvas><div id="tip"></div><div id="legend"></div><script>
const D=__DATA__;const c=document.getElementById('c'),g=c.getContext('2d'),tip=document.getElementById('tip');
const R=Math.max(3,Math.min(8,400/Math.sqrt(Math.max(D.x.length,1))));let s=1,ox=0,oy=0,drag=null;function size(){c.width=innerWidth;c.height=innerHeight;draw()}
function px(i){return[(D.x[i]*(c.width-300)+20)*s+ox,(D.y[i]*(c.height-40)+20)*s+oy]}
function draw(){g.clearRect(0,0,c.width,c.height);for(let i=0;i<D.x.length;i++){const[p,q]=px(i);g.fillStyle=D.colours[D.g[i]];
g.fillRect(p-R/2,q-R/2,R,R)}}
c.onwheel=e=>{const f=e.deltaY<0?1.2:1/1.2;ox=e.clientX-(e.clientX-ox)*f;oy=e.clientY-(e.clientY-oy)*f;s*=f;draw();e.preventDefault()};
c.onmousedown=e=>drag=[e.clientX-ox,e.clientY-oy];onmouseup=()=>drag=null;
c.onmousemove=e=>{if(drag){ox=e.clientX-drag[0];oy=e.clientY-drag[1];draw();return}let b=-1,d=64;
for(let i=0;i<D.x.length;i++){const[p,q]=px(i);const k=(p-e.clientX)**2+(q-e.clientY)**2;if(k<d){d=k;b=i}}
if(b<0){tip.style.display='none';return}tip.style.display='block';tip.style.left=e.clientX+12+'px';tip.style.top=e.clientY+12+'px';
tip.textContent=D.t[b]+' — '+D.a[b]+' · '+D.g[b]+(D.f[b]?' (tag: '+D.f[b]+')':'')};
const L=document.getElementById('legend');for(const n of D.names){const r=L.appendChild(document.createElement('div')),
k=r.appendChild(document.createElement('span'));k.style.color=D.colours[n];k.textContent='■ ';r.append(n)}
onresize=size;size();</script>"""


def render_html(m: LibraryMap, out: str | Path, force: bool = False, any_name: bool = False) -> Path:
    """A self-contained page: the map with zoom, pan and hover (title, artist, genre and its tag).

    Every name from the library (a tag can hold anything, markup included) reaches the page as text only.
    Never written over music, nor (unless forced) over a file that is not such a page; `any_name` takes a name
    without .html.
    """
    out = Path(out)
    check_output(out, "map page", () if any_name else (".html", ".htm"), lambda head: PAGE_TITLE.encode() in head, force)
    names = m.genres()
    data = {"x": np.round(m.xy[:, 0], 4).tolist(), "y": np.round(m.xy[:, 1], 4).tolist(), "g": m.genre, "f": m.file_genre,
            "t": m.title, "a": m.artist, "names": names, "colours": colours_for(names)}
    try:
        atomic_write_text(out, HTML.replace("__DATA__", json.dumps(data).replace("</", "<\\/")))
    except OSError as exc:
        raise GenreTaggerError(out, f"cannot write the page ({exc.strerror})") from exc
    return out
