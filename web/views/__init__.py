"""One blueprint per user-facing area."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from web.views import inbox

    app.register_blueprint(inbox.bp)
