"""OpenID4VCI 1.0 (final): DUO's credential issuer and authorization server."""
