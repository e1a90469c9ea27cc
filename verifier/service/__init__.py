"""The verifier web service (``duo-verifier serve``): OpenID4VP 1.0 requests, wallet-less checks,
explained results. An I/O edge of the verifier: it may use Flask, SQLAlchemy, requests and keys;
the verifier core never imports it."""
