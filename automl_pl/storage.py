"""Opening Optuna storages from URLs, with errors that say what to do and never show a password."""

from __future__ import annotations

from pathlib import Path

import optuna
import sqlalchemy.exc
from sqlalchemy.engine import make_url


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``; non-URLs come back unchanged."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (sqlalchemy.exc.ArgumentError, ValueError, TypeError):
        return url


def open_storage(storage: str | optuna.storages.BaseStorage) -> optuna.storages.BaseStorage:
    """An Optuna storage for ``storage``: a storage object as is, or a database URL.

    A SQLite file's folder is created when missing.

    Raises:
        ValueError: the URL is malformed or the database cannot be reached.
        ImportError: the URL's database driver is not installed.
    """
    if isinstance(storage, optuna.storages.BaseStorage):
        return storage
    if not isinstance(storage, str) or not storage:
        raise ValueError(f"storage must be a database URL such as sqlite:///studies/x.db, got {storage!r}")
    try:
        parsed = make_url(storage)
    except sqlalchemy.exc.ArgumentError:
        raise ValueError(
            f"storage {storage!r} is not a database URL. Use e.g. sqlite:///studies/x.db or "
            "postgresql+psycopg://user@host/db."
        ) from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    try:
        return optuna.storages.RDBStorage(storage)
    except ModuleNotFoundError as exc:
        raise ImportError(
            f"the driver for {redact_url(storage)} is not installed ({exc.name}). "
            "For PostgreSQL: pip install 'automl_pl[postgres]' and use a postgresql+psycopg:// URL."
        ) from None
    except sqlalchemy.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        if parsed.password:
            reason = reason.replace(parsed.password, "***")
        raise ValueError(
            f"cannot open storage {redact_url(storage)}: {reason}. "
            "Check the URL, that the database server is running and that the database exists."
        ) from None
