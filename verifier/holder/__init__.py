"""The reference holder: a small headless wallet for the demo and the end-to-end tests.

OpenID4VCI 1.0 as a client: ``oid4vci_client`` (the pre-authorized flow, token, nonce,
credential, deferred, notification), ``authorization_code`` (PAR, PKCE S256, the development
login, the code grant), ``offer`` (§4.1 offers), ``metadata`` (§12.2, RFC 8414), ``tokens``
(§6.2), ``responses`` and ``binding`` (§8.3), ``encryption`` (§10), ``dpop`` (RFC 9449);
``proofs`` signs key proofs and DPoP proofs; ``store`` is the wallet file.

It sits on the verifier side of the line (shared/DESIGN.md §2): it imports the verifier, never the
issuer. Like ``verifier.cli`` it is an edge that does I/O: HTTP only through an injected session
(``transport.HttpSession``, e.g. ``requests.Session``) and only to loopback hosts; the wallet file
only in the data directory it is given. Named limit: a wallet for tests and the demo, not for
production (no user interface, keys in a file, loopback issuers only, ES256 jwt proofs only).
"""
