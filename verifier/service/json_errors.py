"""JSON error answers for the Flask apps of the issuer and the verifier.

A ProtocolError becomes the spec's ``{"error", "error_description"}`` with its HTTP status and
headers and ``Cache-Control: no-store``; an HTTP error (404, 405, 413) becomes ``invalid_request``;
anything else is logged by its class name only (never the request's data) and answered
``server_error``, so no HTML error page or stack trace ever leaves the server.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from verifier.errors import ProtocolError


def _protocol_error(error: ProtocolError) -> ResponseReturnValue:
    body: dict[str, Any] = {"error": error.code}
    if error.detail:
        body["error_description"] = error.detail
    response = jsonify(body)
    response.status_code = error.status
    response.headers.update(error.headers)
    response.headers["Cache-Control"] = "no-store"
    return response


def _http_error(error: HTTPException) -> ResponseReturnValue:
    code = "invalid_request" if (error.code or 500) < 500 else "server_error"
    response = jsonify({"error": code, "error_description": error.name})
    response.status_code = error.code or 500
    return response


def register_json_errors(app: Flask, log: logging.Logger) -> None:
    """Answer every error of ``app`` as JSON (see the module docstring)."""

    def unexpected(error: Exception) -> ResponseReturnValue:
        log.error("unexpected failure: %s", type(error).__name__)
        response = jsonify({"error": "server_error"})
        response.status_code = 500
        return response

    app.register_error_handler(ProtocolError, _protocol_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, unexpected)
