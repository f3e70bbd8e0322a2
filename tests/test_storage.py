"""Storage URLs: SQLite, journal files and database URLs, heartbeats, and how specs resolve them."""

from __future__ import annotations

import warnings
from pathlib import Path

import optuna
import pytest

from automl_pl.spec import SpecError, load_spec
from automl_pl.storage import has_heartbeat, is_sqlite, journal_path, open_storage, redact_url


def test_journal_storage_creates_its_folder_and_has_no_heartbeat(tmp_path):
    storage = open_storage(f"journal:{tmp_path / 'new' / 'study.log'}")
    assert isinstance(storage, optuna.storages.JournalStorage)
    optuna.create_study(storage=storage, study_name="s")
    assert (tmp_path / "new" / "study.log").is_file()
    assert not has_heartbeat(storage)


def test_database_storage_has_heartbeats_and_retries(tmp_path):
    storage = open_storage(f"sqlite:///{tmp_path / 'x.db'}", heartbeat_seconds=2)
    assert has_heartbeat(storage) and storage.get_heartbeat_interval() == 2
    assert storage.grace_period == 6
    assert isinstance(storage.heartbeat_stale_trial_callback, optuna.storages.RetryHeartbeatStaleTrialCallback)


def test_opening_a_database_storage_says_nothing_of_optunas_experimental_features(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        open_storage(f"sqlite:///{tmp_path / 'x.db'}", heartbeat_seconds=2)
    assert not [w for w in caught if issubclass(w.category, optuna.exceptions.ExperimentalWarning)]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_bad_heartbeat_is_refused(tmp_path, bad):
    with pytest.raises(ValueError, match="heartbeat_seconds must be a whole number of seconds >= 1"):
        open_storage(f"sqlite:///{tmp_path / 'x.db'}", heartbeat_seconds=bad)


def test_journal_storage_on_a_folder_is_refused(tmp_path):
    with pytest.raises(ValueError, match="journal storage needs a file"):
        open_storage(f"journal:{tmp_path}")


def test_storage_kinds_are_told_apart(tmp_path):
    assert journal_path("journal:a/b.log") == Path("a/b.log")
    assert journal_path("journal:///abs/b.log") == Path("/abs/b.log")
    assert journal_path("sqlite:///x.db") is None
    assert is_sqlite("sqlite:///x.db") and not is_sqlite("journal:x.log")
    assert not is_sqlite("postgresql+psycopg://u:p@h/db")
    assert redact_url("postgresql+psycopg://u:secret@h/db") == "postgresql+psycopg://u:***@h/db"


def test_spec_resolves_a_relative_journal_next_to_the_spec(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text('[data]\ndataset = "diabetes"\n[study]\nstorage = "journal:runs/s.log"\nheartbeat_seconds = 3\n')
    loaded = load_spec(spec)
    assert loaded.storage == f"journal:{tmp_path / 'runs/s.log'}"
    assert loaded.heartbeat_seconds == 3
    spec.write_text('[data]\ndataset = "diabetes"\n[study]\nheartbeat_seconds = 0\n')
    with pytest.raises(SpecError, match="heartbeat_seconds >= 1"):
        load_spec(spec)
