"""OpenID4VP 1.0 (final) for the verifier: requests, DCQL, responses. Pure: no I/O."""
