"""One blueprint per user-facing area."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from web.views import assign, attachments, cases, inbox, ownership, reports, steps

    app.register_blueprint(inbox.bp)
    for module in (steps, assign, ownership, reports, cases, attachments):
        app.register_blueprint(module.bp)
    from web.views import admin, inspector, supervisor

    for module in (supervisor, inspector, admin):
        app.register_blueprint(module.bp)
    from web.views import providers

    app.register_blueprint(providers.bp)  # the service-provider registry (administration, Art. 28.3.c)
    from web.views import statistics

    app.register_blueprint(statistics.bp)
    from web.views import dossier, health, national_db, records

    app.register_blueprint(national_db.bp)  # entry into the national children database (Art. 30.3)

    app.register_blueprint(records.bp)  # restriction of processing, retention (administration)

    app.register_blueprint(dossier.bp)
    app.register_blueprint(health.bp)
    from web.views import privacy

    app.register_blueprint(privacy.bp)  # data subjects' requests and the breach register (administration)
    app.register_blueprint(privacy.cases_bp)  # the child's legal representatives on a case
    from web.views import releases

    app.register_blueprint(releases.bp)  # free texts marked releasable from the case page (engine.releases)
