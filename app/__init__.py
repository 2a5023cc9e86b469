"""The Starshipit WMS: application factory."""
from __future__ import annotations

from flask import Flask
from htmx_flask import Htmx

from app import config, db, errors_web, security
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

    Htmx(app)
    security.init_app(app)
    errors_web.init_app(app)
    _register_blueprints(app)
    security.people_only_sessions(app)

    from app import tasks

    tasks.init_app(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from app.api import bp as api_bp
    from app.web import register as register_pages

    register_pages(app)
    security.csrf.exempt(api_bp)
    app.register_blueprint(api_bp)

    from app.webhooks import bp as webhooks_bp

    security.csrf.exempt(webhooks_bp)
    app.register_blueprint(webhooks_bp)
