"""Opening Optuna storages from URLs, with errors that say what to do and never show a password.

Three kinds, all Optuna's own engines:

* ``sqlite:///path.db``: the embedded default, for one process;
* ``journal:path.log``: Optuna's journal file, for several processes on one machine;
* ``postgresql+psycopg://user@host/db`` (or any SQLAlchemy URL): for workers on many machines.

Database storages get heartbeats: a trial whose process died (SIGKILL, lost machine) is
marked failed after a grace period and queued again for another worker
(:class:`DeadWorkerSweep`).
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import optuna
import sqlalchemy.exc
from optuna.storages._rdb import models  # Optuna's schema: no public query finds trials without a heartbeat
from sqlalchemy.engine import make_url

JOURNAL_SCHEME = "journal:"
HEARTBEAT_SECONDS = 10
"""How often a running trial proves its process is alive; a trial silent for
``GRACE_PERIODS`` heartbeats is failed and retried."""
GRACE_PERIODS = 3
MAX_RETRIES = 2
"""How many times a trial whose worker died is re-run before the study gives up on it."""
SCHEMA_RACE_RETRIES = 3


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``; non-URLs come back unchanged."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (sqlalchemy.exc.ArgumentError, ValueError, TypeError):
        return url


def journal_path(storage: str) -> Path | None:
    """The file of a ``journal:PATH`` storage string, or ``None`` for any other storage."""
    if not isinstance(storage, str) or not storage.startswith(JOURNAL_SCHEME):
        return None
    return Path(storage[len(JOURNAL_SCHEME):].removeprefix("//"))


def storage_file(storage: str) -> Path | None:
    """The file a ``journal:`` or ``sqlite:`` storage string names, or ``None`` (a server, or SQLite in memory)."""
    if (journal := journal_path(storage)) is not None:
        return journal
    try:
        url = make_url(storage)
    except (sqlalchemy.exc.ArgumentError, ValueError, TypeError):
        return None
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database)
    return None


def is_sqlite(storage: str | optuna.storages.BaseStorage) -> bool:
    """Whether ``storage`` is a SQLite database (safe for one process at a time only)."""
    url = storage if isinstance(storage, str) else getattr(storage, "url", "")
    try:
        return make_url(url).get_backend_name() == "sqlite"
    except (sqlalchemy.exc.ArgumentError, ValueError, TypeError):
        return False


def has_heartbeat(storage: optuna.storages.BaseStorage) -> bool:
    """Whether ``storage`` fails the trials of dead workers (Optuna's heartbeat; not the journal file)."""
    interval = getattr(storage, "get_heartbeat_interval", None)
    return callable(interval) and interval() is not None


class DeadWorkerSweep:
    """Fails the running trials of dead workers, and queues them again, each time it is called.

    Optuna's :func:`~optuna.storages.fail_stale_trials` does this for a trial whose
    heartbeat is older than the grace period, but never for a trial with no heartbeat
    at all, and a worker killed between creating its trial and recording its first
    heartbeat (the sampler runs in between) leaves exactly that: a trial "running" for
    ever, which a study waiting for its total would wait on for ever. So a running trial
    seen here without a heartbeat for a whole grace period is given one on its owner's
    behalf: a live owner keeps it fresh, a dead one lets it go stale, and Optuna's own
    path fails it and runs the retry callback one grace period later.
    """

    def __init__(self, study: optuna.Study) -> None:
        self.study = study
        backend = getattr(study._storage, "_backend", study._storage)  # Optuna wraps an RDB storage in a cache
        self.backend = backend if isinstance(backend, optuna.storages.RDBStorage) and has_heartbeat(backend) else None
        self.silent_since: dict[int, float] = {}

    def __call__(self) -> None:
        if self.backend is None:
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(self.study)
        now = time.monotonic()
        silent = _running_without_heartbeat(self.backend, self.study.study_name)
        self.silent_since = {trial_id: self.silent_since.get(trial_id, now) for trial_id in silent}
        grace = self.backend.grace_period or 2 * self.backend.heartbeat_interval
        for trial_id, since in self.silent_since.items():
            if now - since >= grace:
                try:
                    self.backend.record_heartbeat(trial_id)
                except sqlalchemy.exc.IntegrityError:
                    pass  # its owner recorded its first heartbeat just now: it is alive


def _running_without_heartbeat(storage: optuna.storages.RDBStorage, study_name: str) -> list[int]:
    """Ids of the study's running trials that have never recorded a heartbeat."""
    study_id = storage.get_study_id_from_name(study_name)
    session = storage.scoped_session()
    try:
        query = (session.query(models.TrialModel.trial_id)
                 .outerjoin(models.TrialHeartbeatModel, models.TrialHeartbeatModel.trial_id == models.TrialModel.trial_id)
                 .filter(models.TrialModel.study_id == study_id,
                         models.TrialModel.state == optuna.trial.TrialState.RUNNING,
                         models.TrialHeartbeatModel.trial_id.is_(None)))
        return [trial_id for (trial_id,) in query]
    finally:
        session.close()


def open_storage(storage: str | optuna.storages.BaseStorage, *,
                 heartbeat_seconds: int = HEARTBEAT_SECONDS) -> optuna.storages.BaseStorage:
    """An Optuna storage for ``storage``: a storage object as is, a ``journal:`` file, or a database URL.

    A SQLite or journal file's folder is created when missing. Database storages get
    heartbeats every ``heartbeat_seconds`` and retry the trials of dead workers.

    Raises:
        ValueError: the URL is malformed or the database cannot be reached.
        ImportError: the URL's database driver is not installed.
    """
    if isinstance(storage, optuna.storages.BaseStorage):
        return storage
    if not isinstance(storage, str) or not storage:
        raise ValueError(f"storage must be a database URL such as sqlite:///studies/x.db, got {storage!r}")
    if (journal := journal_path(storage)) is not None:
        return _open_journal(journal)
    try:
        parsed = make_url(storage)
    except sqlalchemy.exc.ArgumentError:
        raise ValueError(
            f"storage {storage!r} is not a database URL. Use e.g. sqlite:///studies/x.db, "
            "journal:studies/x.log or postgresql+psycopg://user@host/db."
        ) from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    if not isinstance(heartbeat_seconds, int) or isinstance(heartbeat_seconds, bool) or heartbeat_seconds < 1:
        raise ValueError(f"heartbeat_seconds must be a whole number of seconds >= 1, got {heartbeat_seconds!r}")
    in_memory = parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")
    try:  # an in-memory database lives in one connection: the heartbeat thread's own could not see it
        return _open_rdb(storage, None if in_memory else heartbeat_seconds)
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


def _open_rdb(url: str, heartbeat_seconds: int | None) -> optuna.storages.RDBStorage:
    """Optuna's RDB storage, with heartbeats unless ``None``; retried when workers race to create a new schema."""
    with warnings.catch_warnings():  # heartbeats and their retry callback are "experimental" since Optuna 2.8
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        heartbeat = {} if heartbeat_seconds is None else {
            "heartbeat_interval": heartbeat_seconds, "grace_period": GRACE_PERIODS * heartbeat_seconds,
            "heartbeat_stale_trial_callback": optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRIES),
        }
        for attempt in range(SCHEMA_RACE_RETRIES + 1):
            try:
                return optuna.storages.RDBStorage(url, **heartbeat)
            except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
                if attempt == SCHEMA_RACE_RETRIES:
                    raise
                time.sleep(0.2 * (attempt + 1))  # another worker is creating the tables; they exist on the next try
    raise AssertionError("unreachable")


def _open_journal(path: Path) -> optuna.storages.BaseStorage:
    if not str(path) or path.is_dir():
        raise ValueError(f"journal storage needs a file, e.g. journal:studies/x.log; got {JOURNAL_SCHEME}{path}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        backend = optuna.storages.journal.JournalFileBackend(str(path))
    except OSError as exc:
        raise ValueError(f"cannot open the journal file {path}: {exc.strerror or exc}. Check the path and its permissions.") from None
    return optuna.storages.JournalStorage(backend)
