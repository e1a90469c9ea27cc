"""QR codes of credential offer deep links (OpenID4VCI 1.0 §4.1: cross-device offers, HAIP §4.2).

SVG (one path, white background, scalable for print and screens) and PNG, both from the qrcode
library (ISO/IEC 18004), error correction level M. Pure functions: text in, image bytes out.
"""

from __future__ import annotations

import io

import qrcode  # type: ignore[import-untyped]
import qrcode.image.pil  # type: ignore[import-untyped]
import qrcode.image.svg  # type: ignore[import-untyped]

SVG_MEDIA_TYPE = "image/svg+xml"
PNG_MEDIA_TYPE = "image/png"
_BOX_SIZE = 8  # pixels per module in the PNG
_BORDER = 4  # modules of quiet zone (the standard's minimum)


def _code(text: str) -> qrcode.QRCode:
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=_BOX_SIZE, border=_BORDER
    )
    code.add_data(text)
    code.make(fit=True)
    return code


def svg(text: str) -> bytes:
    """A standalone SVG document (UTF-8) showing ``text`` as a QR code."""
    image = _code(text).make_image(image_factory=qrcode.image.svg.SvgPathFillImage)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


def png(text: str) -> bytes:
    """A PNG image showing ``text`` as a QR code."""
    image = _code(text).make_image(image_factory=qrcode.image.pil.PilImage)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()
