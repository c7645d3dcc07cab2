"""The run report (``hub.runner.report``) is self-contained: nothing is fetched from elsewhere."""

import base64
import re

import nbformat

from hub.runner.report import render_html

# a 1×1 PNG, as matplotlib's inline backend would put in an output
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()


def executed_notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Essai\n\nUne formule : $\\frac{a}{b}$ et $$x^2$$."),
        nbformat.v4.new_code_cell(
            "plot()",
            outputs=[nbformat.v4.new_output("display_data", data={"image/png": PNG})],
        ),
    ]
    return nb


def test_report_loads_no_script_or_style_from_another_site():
    run = {"entry_id": "essai", "title": "Essai", "timings": {"started": "2026-01-01T10:00:00"}}
    html = render_html(executed_notebook(), run)
    assert '<html lang="fr"' in html
    # plots are inline, not files or links
    assert f"data:image/png;base64,{PNG}" in html
    # no resource from a CDN: no require.js, MathJax or Mermaid, no external script or style
    for word in ("require.js", "mathjax", "mermaid", "cdnjs", "unpkg", "jsdelivr"):
        assert word not in html.lower(), word
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=[\"']?(https?:)?//", html)
    assert not re.search(r"url\([\"']?(https?:)?//", html)
