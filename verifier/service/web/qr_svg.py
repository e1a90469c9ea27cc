"""A QR code (ISO/IEC 18004, via the qrcode library) as an inline SVG element for the pages.

One path of unit squares, merged along rows, in a viewBox of modules with a 4-module quiet zone;
no XML declaration, no style attribute (the pages' CSP allows no inline style), ``role="img"``
and an accessible label. Error correction level M.
"""

from __future__ import annotations

import qrcode  # type: ignore[import-untyped]
from markupsafe import Markup

BORDER = 4


def qr_svg(text: str, *, label: str) -> Markup:
    """``text`` as a QR code ``<svg>`` element labelled ``label`` (escaped by Markup.format)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=BORDER)
    code.add_data(text)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    parts = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            start = x
            while x < len(row) and row[x]:
                x += 1
            parts.append(f"M{start},{y}h{x - start}v1h{start - x}z")
    size = len(matrix)
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" class="qr" viewBox="0 0 {size} {size}" '
        'role="img" aria-label="{label}" shape-rendering="crispEdges">'
        '<rect width="{size}" height="{size}" fill="#fff"/>'
        '<path fill="#000" d="{path}"/></svg>'
    ).format(size=size, label=label, path="".join(parts))
