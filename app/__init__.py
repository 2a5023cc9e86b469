"""The Starshipit WMS: application factory."""
from __future__ import annotations

from flask import Flask
from htmx_flask import Htmx
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from app import bounds, compression, config, db, errors_web, security
from app.config import INSTANCE_DIR


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_path=str(INSTANCE_DIR),
    )
    app.config.update(config.from_environment())
    app.config.update(overrides or {})
    app.extensions["wms.engine"] = db.make_engine(app.config["DATABASE_URL"])
    _trust_proxies(app, app.config["TRUSTED_PROXIES"])

    compression.init_app(app)  # first: its after_request hook then runs after every other one
    Htmx(app)
    security.init_app(app)
    errors_web.init_app(app)
    app.url_map.converters["int"] = RowIdConverter  # before any route is added
    _register_blueprints(app)
    security.people_only_sessions(app)

    from app import replenishment, tasks
    from app.outbound import allocation

    tasks.init_app(app)
    replenishment.init_app(app)  # its stock-moved listener: pick faces below their minimum
    allocation.init_app(app)  # its stock-moved listener: stock arriving where orders await it
    return app


class RowIdConverter(IntegerConverter):
    """`<int:...>` in a route names a row: up to bounds.MAX_ROW_ID (ids are 32-bit columns). A
    larger number names no page (404 in words) instead of reaching the database and failing there
    (SQLite's driver cannot even send it): a 500 for a mistyped or forged address."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", bounds.MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


def _trust_proxies(app: Flask, count: int) -> None:
    """Behind `count` proxies, take the client's address, scheme and host from the
    X-Forwarded-For / -Proto / -Host values those proxies added (and no others: a client can
    send the headers too). With none trusted the headers are ignored."""
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)


def _register_blueprints(app: Flask) -> None:
    from app.api import bp as api_bp
    from app.web import register as register_pages

    register_pages(app)
    security.csrf.exempt(api_bp)
    app.register_blueprint(api_bp)

    from app.webhooks import bp as webhooks_bp

    security.csrf.exempt(webhooks_bp)
    app.register_blueprint(webhooks_bp)
