"""The credential configurations DUO offers (OpenID4VCI 1.0 §12.2.4, Appendix A; HAIP 1.0 §4.1).

Every credential type as ``dc+sd-jwt`` (SD-JWT VC, A.3); diplomas also as ``jwt_vc_json`` (VCDM
1.1 encoding of the European Learning Model document, A.1.1). Each has its own ``scope`` (HAIP:
one scope per configuration, H-3/H-4).
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.loader import CREDENTIAL_TYPES


@dataclass(frozen=True)
class Configuration:
    id: str
    type_name: str
    format: str  # dc+sd-jwt | jwt_vc_json
    scope: str


def _build() -> dict[str, Configuration]:
    found: dict[str, Configuration] = {}
    for type_name in CREDENTIAL_TYPES:
        sd = Configuration(f"{type_name}_sd_jwt", type_name, "dc+sd-jwt", f"duo_{type_name}")
        found[sd.id] = sd
    w3c = Configuration("diploma_jwt_vc_json", "diploma", "jwt_vc_json", "duo_diploma_w3c")
    found[w3c.id] = w3c
    return found


CONFIGURATIONS: dict[str, Configuration] = _build()
SCOPES: dict[str, Configuration] = {c.scope: c for c in CONFIGURATIONS.values()}


def for_type(type_name: str, fmt: str | None = None) -> list[Configuration]:
    """The configurations of a credential type, or the one of that type and format."""
    return [
        c
        for c in CONFIGURATIONS.values()
        if c.type_name == type_name and (fmt is None or c.format == fmt)
    ]
