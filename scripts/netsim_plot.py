#!/usr/bin/env python3
"""Draws the netsim table (tests/netsim/snapshot.txt) as docs/netsim.svg.

Throughput against random loss, one panel per round-trip time, for the
largest socket buffer; one line per congestion control x SACK. Both axes are
logarithmic (loss 0 sits at the left edge, on its own tick). Standard library
only: the SVG is written by hand.

    scripts/netsim_plot.py [--snapshot tests/netsim/snapshot.txt] [--out docs/netsim.svg] [--buffer 1024]
"""
import argparse
import math
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SERIES = [  # (algorithm, sack, colour, dash)
    ("newreno", "off", "#1f77b4", ""),
    ("newreno", "on", "#1f77b4", "6,4"),
    ("cubic", "off", "#d62728", ""),
    ("cubic", "on", "#d62728", "6,4"),
]

PANEL_W, PANEL_H = 420, 280
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 64, 24, 36, 52
COLUMNS = 2
LEGEND_H = 44
TITLE_H = 30

RATE_MIN, RATE_MAX = 0.001, 100.0  # Mbit/s, the y axis
LOSS_MIN, LOSS_MAX = 0.1, 30.0    # %, the x axis (0 is drawn left of LOSS_MIN)


def read_table(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or line.startswith("algo") or not line.strip():
                continue
            algo, sack, loss, rtt, buffer, sent, completion, rate, rtx, rto, qdrop = line.split()
            rows.append({
                "algo": algo, "sack": sack, "loss": float(loss), "rtt": int(rtt), "buffer": int(buffer),
                "completion": completion, "rate": float(rate),
            })
    return rows


def x_of(loss, width):
    """Log scale; loss 0 at the left edge, LOSS_MIN one step to its right."""
    span = math.log10(LOSS_MAX) - math.log10(LOSS_MIN)
    step = width / (span + 0.6)  # pixels per decade, with room for the 0 tick
    if loss <= 0:
        return 0.0
    return step * 0.6 + (math.log10(loss) - math.log10(LOSS_MIN)) * step


def y_of(rate, height):
    rate = min(max(rate, RATE_MIN), RATE_MAX)
    span = math.log10(RATE_MAX) - math.log10(RATE_MIN)
    return height - (math.log10(rate) - math.log10(RATE_MIN)) / span * height


def esc(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def panel(out, rows, rtt, buffer, left, top):
    w = PANEL_W - MARGIN_L - MARGIN_R
    h = PANEL_H - MARGIN_T - MARGIN_B
    ox, oy = left + MARGIN_L, top + MARGIN_T
    out.append(f'<g font-family="sans-serif" font-size="11">')
    out.append(f'<text x="{ox + w / 2:.1f}" y="{top + 20}" text-anchor="middle" font-size="13" '
               f'font-weight="bold">RTT {rtt} ms, buffer {buffer} KiB</text>')
    out.append(f'<rect x="{ox}" y="{oy}" width="{w}" height="{h}" fill="none" stroke="#444"/>')
    # Grid and ticks.
    for rate in (0.001, 0.01, 0.1, 1, 10, 100):
        y = oy + y_of(rate, h)
        out.append(f'<line x1="{ox}" y1="{y:.1f}" x2="{ox + w}" y2="{y:.1f}" stroke="#ddd"/>')
        label = f"{rate:g}"
        out.append(f'<text x="{ox - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    for loss in (0, 0.1, 1, 10, 30):
        x = ox + x_of(loss, w)
        out.append(f'<line x1="{x:.1f}" y1="{oy}" x2="{x:.1f}" y2="{oy + h}" stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{oy + h + 16}" text-anchor="middle">{loss:g}</text>')
    out.append(f'<text x="{ox + w / 2:.1f}" y="{oy + h + 36}" text-anchor="middle">random loss (%, log scale)</text>')
    out.append(f'<text x="{left + 16}" y="{oy + h / 2:.1f}" text-anchor="middle" '
               f'transform="rotate(-90 {left + 16} {oy + h / 2:.1f})">throughput (Mbit/s, log scale)</text>')
    # One line per series.
    for algo, sack, colour, dash in SERIES:
        points = sorted((r["loss"], r["rate"], r["completion"]) for r in rows
                        if r["algo"] == algo and r["sack"] == sack and r["rtt"] == rtt and r["buffer"] == buffer)
        if not points:
            continue
        coords = [(ox + x_of(loss, w), oy + y_of(rate, h), completion) for loss, rate, completion in points]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in coords)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.8"{dash_attr}/>')
        for x, y, completion in coords:
            finished = completion not in ("timeout", "failed")
            fill = colour if finished else "white"
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.8" fill="{fill}" stroke="{colour}"/>')
    out.append("</g>")


def legend(out, top, width):
    out.append(f'<g font-family="sans-serif" font-size="12">')
    x = 30
    for algo, sack, colour, dash in SERIES:
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<line x1="{x}" y1="{top + 14}" x2="{x + 34}" y2="{top + 14}" stroke="{colour}" '
                   f'stroke-width="2"{dash_attr}/>')
        out.append(f'<text x="{x + 40}" y="{top + 18}">{esc(algo)}, SACK {sack}</text>')
        x += 158
    out.append(f'<circle cx="{x + 4}" cy="{top + 14}" r="2.8" fill="white" stroke="#444"/>')
    out.append(f'<text x="{x + 12}" y="{top + 18}">not finished in time</text>')
    out.append("</g>")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshot", default=os.path.join(ROOT, "tests", "netsim", "snapshot.txt"))
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "netsim.svg"))
    parser.add_argument("--buffer", type=int, default=1024, help="socket buffer in KiB (one of the table's)")
    args = parser.parse_args()

    rows = read_table(args.snapshot)
    rtts = sorted({r["rtt"] for r in rows})
    if not rows or args.buffer not in {r["buffer"] for r in rows}:
        sys.exit(f"netsim_plot: no rows with a {args.buffer} KiB buffer in {args.snapshot}")
    panel_rows = (len(rtts) + COLUMNS - 1) // COLUMNS
    width = PANEL_W * COLUMNS
    height = TITLE_H + LEGEND_H + PANEL_H * panel_rows

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="22" text-anchor="middle" font-family="sans-serif" font-size="15" '
           f'font-weight="bold">uk netsim: bulk transfer throughput against random loss '
           f'(100 Mbit/s bottleneck)</text>']
    legend(out, TITLE_H, width)
    for i, rtt in enumerate(rtts):
        left = (i % COLUMNS) * PANEL_W
        top = TITLE_H + LEGEND_H + (i // COLUMNS) * PANEL_H
        panel(out, rows, rtt, args.buffer, left, top)
    out.append("</svg>")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    print(f"netsim_plot: wrote {args.out}")


if __name__ == "__main__":
    main()
