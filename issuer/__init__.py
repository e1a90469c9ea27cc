"""DUO's application: credential building, the OpenID4VCI issuer, login, portal and status lists."""
