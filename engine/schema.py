"""Schema migrations (Alembic). Production and the demo both upgrade; nothing calls `create_all`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from engine.models import database_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def current_heads(url: str) -> list[str]:
    from alembic.script import ScriptDirectory

    return list(ScriptDirectory.from_config(alembic_config(url)).get_heads())


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def current(url: str) -> list[str]:
    """The revisions the database is at (empty: never migrated)."""
    from alembic.runtime.migration import MigrationContext

    from engine.models import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return list(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()


def history() -> list[tuple[str, str | None, str]]:
    """(revision, down revision, first line of its description), newest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [(r.revision, r.down_revision if isinstance(r.down_revision, str | None) else ",".join(r.down_revision),
             (r.doc or "").splitlines()[0] if r.doc else "") for r in script.walk_revisions()]
