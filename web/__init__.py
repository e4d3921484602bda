"""The case56 Flask application (application factory, one blueprint per user-facing area)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, g, request, session
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from engine.models import database_url
from engine.runtime import Engine
from web import config as config_module
from web.extensions import babel, csrf, db, login_manager


def select_locale() -> str:
    if getattr(current_user, "is_authenticated", False) and current_user.locale in {"vi", "en"}:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in {"vi", "en"}:
        return chosen
    return "vi"


class DatabaseId(IntegerConverter):
    """`<int:…>` in every route: ids beyond the database's integer range are a 404, not a database error."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(Path.cwd() / "instance"), instance_relative_config=False)
    app.url_map.converters["int"] = DatabaseId
    app.config.update(config_module.from_environment(Path(app.instance_path)))
    app.config.update(overrides or {})
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    config_module.check_production(app.config)

    db.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(Path(__file__).parent / "translations"))
    # Built once per process: parsing the BPMN, the deadline rules and the calendar is start-up work.
    app.extensions["case56_engine"] = app.config.get("CASE56_ENGINE") or Engine()
    app.extensions["case56_engine"].receipt_max_age = timedelta(days=app.config["CASE56_RECEIPT_MAX_AGE_DAYS"])

    from web import assets, auth, cli, errors, filters, gate, labels, metrics, observability, security

    # First: its after-request hooks run last, so compression sees each answer's final body and headers.
    assets.init_app(app)
    observability.configure_logging(app.config["CASE56_LOG_FORMAT"], app.config["CASE56_LOG_LEVEL"])
    observability.init_app(app)
    metrics.init_app(app)

    auth.init_app(app)
    filters.init_app(app)
    labels.install(app)
    security.init_app(app)
    errors.init_app(app)
    gate.init_app(app)
    cli.init_app(app)
    from web.views import register_blueprints

    register_blueprints(app)
    from web.api import BLUEPRINTS as API_BLUEPRINTS
    from web.api import init_app as init_api

    init_api(app)
    api_blueprints = frozenset(bp.name for bp in API_BLUEPRINTS)

    @app.before_request
    def _locale() -> None:
        # The JSON API takes its language from the request and the token's owner (web/api/common.py) and never acts
        # on a browser's session cookie: reading the signed-in user here would cost it a session lookup.
        if request.blueprint in api_blueprints:
            return
        g.locale = select_locale()  # templates and views read the request's language from here

    return app


def engine() -> Engine:
    from flask import current_app

    return current_app.extensions["case56_engine"]
