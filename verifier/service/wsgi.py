"""Serving a Flask app factory over HTTP, for ``duo-issuer serve`` and ``duo-verifier serve``.

gunicorn with N worker processes, each building its own app after the fork (so no database
connection or lock crosses it); without gunicorn (it needs fcntl: not on Windows) werkzeug's
threaded development server runs one process, and a request for more workers is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class GunicornMissing(RuntimeError):
    """More than one worker was asked for where gunicorn cannot run."""


def _gunicorn(load: Callable[[], Any], options: dict[str, Any]) -> Callable[[], None] | None:
    try:
        from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]
    except ImportError:
        return None

    class Application(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for name, value in options.items():
                self.cfg.set(name, value)

        def load(self) -> Any:
            return load()  # in each worker, after the fork

    return Application().run  # type: ignore[no-any-return]


def serve_wsgi(
    load: Callable[[], Any], *, host: str, port: int, workers: int, proc_name: str
) -> None:
    """Serve until interrupted (SIGINT/SIGTERM: gunicorn finishes the requests under way).

    The access log stays off: request lines carry offer ids, codes and response codes.
    """
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    options: dict[str, Any] = {
        "bind": [bind],
        "workers": workers,
        "proc_name": proc_name,
        "accesslog": None,
        "timeout": 30,
    }
    runner = _gunicorn(load, options)
    if runner is not None:
        runner()
        return
    if workers != 1:
        raise GunicornMissing("more than one worker needs gunicorn")
    from werkzeug.serving import run_simple

    run_simple(host, port, load(), threaded=True)
