"""The ``automl-pl`` command: parse, call the Python API, print. No logic of its own.

    automl-pl run SPEC [--data-dir DIR] [--n-trials N] [--timeout S] [--storage URL]
                       [--study-name NAME] [--export DIR] [--fixed-param NAME=VALUE ...]
    automl-pl worker SPEC [--data-dir DIR] [--storage URL] [--n-trials N] [--timeout S] [--n-jobs N]
    automl-pl export SPEC [--data-dir DIR] [--storage URL] [--study-name NAME] --out DIR
    automl-pl predict MODEL_DIR INPUT -o OUTPUT
    automl-pl dashboard SPEC [--storage URL] [--host HOST] [--port PORT]
    automl-pl report SPEC [--storage URL] [--study-name NAME] -o report.html
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from automl_pl._files import write_atomically
from automl_pl._version import __version__
from automl_pl.artifact import check_export_target
from automl_pl.spec import StudySpec, load_data, load_spec, read_table
from automl_pl.storage import journal_path, open_storage, redact_url

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


EXPORT_RESERVE = (1.0, 0.02)
"""Seconds, and share of ``run --timeout``, the larger of which is kept for exporting the model after
the study (the demo's ensemble of 15 fold models took 0.8 s to write)."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("\ninterrupted: finished trials are kept in the study; run the same command again to continue.",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ValueError, TypeError, ImportError, RuntimeError, OSError) as exc:
        print(f"automl-pl: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


def _run(args: argparse.Namespace) -> int:
    spec = _spec(args)
    if spec.export_dir is not None:
        check_export_target(spec.export_dir)  # fail now, not after the study
    X, y, X_unlabeled = load_data(spec)
    print(f"study {spec.study_name!r} on {redact_url(spec.storage)}: {len(X)} labelled rows, "
          f"{0 if X_unlabeled is None else len(X_unlabeled)} unlabelled, target {y.name!r}", file=sys.stderr)
    result = _tune(spec, X, y, X_unlabeled, n_jobs=args.n_jobs, show_progress_bar=not args.no_progress)
    print(result.summary())
    if spec.export_dir is not None:
        print(f"exported the best model to {result.export(spec.export_dir, ignored_columns=spec.drop)}")
    return 0


def _tune(spec: StudySpec, X: pd.DataFrame, y: pd.Series, X_unlabeled: pd.DataFrame | None, *, n_jobs: int | None,
          show_progress_bar: bool, worker: bool = False):
    """``tune`` with the spec's settings: the one call behind ``run`` and ``worker``.

    The spec's timeout is for the whole command: what the process spent before (start, imports,
    reading the data) and ``EXPORT_RESERVE`` for writing the model are taken off what ``tune`` gets.
    """
    from automl_pl.budget import seconds_since_process_start
    from automl_pl.study import tune

    timeout = spec.timeout
    if timeout is not None:
        spent = seconds_since_process_start()
        export = max(EXPORT_RESERVE[0], EXPORT_RESERVE[1] * spec.timeout)
        timeout -= spent + (0.0 if worker or spec.export_dir is None else export)
        if timeout <= 0:
            raise ValueError(f"timeout {spec.timeout:g} s is already spent: starting and reading the data took "
                             f"{spent:.1f} s. Give a longer --timeout.")
    return tune(
        X, y, X_unlabeled=X_unlabeled, models=spec.models, n_trials=spec.n_trials, timeout=timeout, cv=spec.cv,
        cv_repeats=spec.cv_repeats, storage=spec.storage, heartbeat_seconds=spec.heartbeat_seconds,
        study_name=spec.study_name,
        random_state=spec.seed, n_jobs=n_jobs, fixed_params=spec.fixed_params, show_progress_bar=show_progress_bar,
        worker=worker, ensemble=spec.ensemble, bagging=spec.bagging, stacking=spec.stacking,
    )


def _worker(args: argparse.Namespace) -> int:
    from automl_pl.optimize import worker_name
    from automl_pl.study import check_worker_storage

    spec = _spec(args)
    check_worker_storage(spec.storage)  # before loading the data; tune checks again for Python callers
    X, y, X_unlabeled = load_data(spec)
    # Workers sharing a journal file share this machine's cores: one model thread each unless told.
    n_jobs = args.n_jobs if args.n_jobs is not None or journal_path(spec.storage) is None else 1
    print(f"worker {worker_name()} joins study {spec.study_name!r} on {redact_url(spec.storage)}", file=sys.stderr)
    result = _tune(spec, X, y, X_unlabeled, n_jobs=n_jobs, show_progress_bar=False, worker=True)
    print(result.summary())
    print(f"when every worker is done, export the best model once: automl-pl export {args.spec} --out DIR")
    return 0


def _export(args: argparse.Namespace) -> int:
    from automl_pl.study import refit_best

    spec = _spec(args)
    check_export_target(args.out)
    X, y, X_unlabeled = load_data(spec)
    result = refit_best(X, y, X_unlabeled=X_unlabeled, storage=spec.storage, study_name=spec.study_name,
                        n_jobs=args.n_jobs, bagging=spec.bagging)
    print(result.summary())
    print(f"exported the best model to {result.export(args.out, ignored_columns=spec.drop)}")
    return 0


def _predict(args: argparse.Namespace) -> int:
    from automl_pl.artifact import load_model

    model = load_model(args.model)
    rows = read_table(Path(args.input))
    predictions = model.predict(rows)
    kept = [c for c in model.metadata.get("ignored_columns", []) if c in rows.columns]
    out = rows[kept].copy()
    out[model.target] = predictions
    _write_table(out, Path(args.output))
    print(f"wrote {len(out)} predictions of {model.target!r} to {args.output}")
    return 0


def _dashboard(args: argparse.Namespace) -> int:
    from optuna_dashboard import run_server

    spec = _spec(args)
    storage = open_storage(spec.storage)
    print(f"optuna-dashboard for {redact_url(spec.storage)} at http://{args.host}:{args.port}/ (Ctrl-C to stop)")
    run_server(storage, host=args.host, port=args.port)
    return 0


def _report(args: argparse.Namespace) -> int:
    import optuna

    from automl_pl.report import write_report

    spec = _spec(args)
    storage = open_storage(spec.storage)
    try:
        study = optuna.load_study(study_name=spec.study_name, storage=storage)
    except KeyError:
        raise ValueError(f"no study named {spec.study_name!r} in {redact_url(spec.storage)}. Run it first.") from None
    print(f"wrote the report on study {spec.study_name!r} to {write_report(study, args.output)}")
    return 0


def _spec(args: argparse.Namespace) -> StudySpec:
    spec = load_spec(args.spec, data_dir=getattr(args, "data_dir", None))
    overrides = {
        "n_trials": getattr(args, "n_trials", None),
        "timeout": getattr(args, "timeout", None),
        "storage": args.storage,
        "study_name": getattr(args, "study_name", None),
        "export_dir": Path(args.export) if getattr(args, "export", None) else None,
        "fixed_params": _fixed_params(spec, getattr(args, "fixed_param", None)),
    }
    return dataclasses.replace(spec, **{k: v for k, v in overrides.items() if v is not None})


def _fixed_params(spec: StudySpec, pairs: Sequence[str] | None) -> dict[str, Any] | None:
    """The spec's fixed_params updated by ``--fixed-param NAME=VALUE`` flags (VALUE read as JSON if it parses)."""
    if not pairs:
        return None
    fixed = dict(spec.fixed_params or {})
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"--fixed-param takes NAME=VALUE, e.g. sample_rate=0.0; got {pair!r}")
        try:
            fixed[name] = json.loads(text)
        except json.JSONDecodeError:
            fixed[name] = text
    return fixed


def _write_table(frame: pd.DataFrame, path: Path) -> None:
    """CSV or Parquet by suffix, written beside and renamed, so a failure never leaves half a file."""
    parquet = path.suffix.lower() in (".parquet", ".pq")
    write_atomically(path, lambda staging: frame.to_parquet(staging, index=False) if parquet
                     else frame.to_csv(staging, index=False))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="automl-pl", description="AutoML for tabular regression with pseudo-labelling.")
    parser.add_argument("--version", action="version", version=f"automl_pl {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    def study_command(name: str, help: str, handler) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.add_argument("spec", help="study spec (TOML), e.g. studies/demo.toml")
        sub.add_argument("--storage", help="Optuna storage URL, overriding the spec")
        sub.set_defaults(handler=handler)
        return sub

    run = study_command("run", "run (or continue) a study, then refit and export its best model", _run)
    run.add_argument("--data-dir", help="folder holding the data files the spec names")
    run.add_argument("--n-trials", type=int, help="the study's total of finished trials")
    run.add_argument("--timeout", type=float, help="seconds to spend on new trials")
    run.add_argument("--study-name", help="study name, overriding the spec")
    run.add_argument("--export", help="directory to export the best model to, overriding the spec")
    run.add_argument("--n-jobs", type=int, help="threads per model (default: all cores)")
    run.add_argument("--fixed-param", action="append", metavar="NAME=VALUE",
                     help="hold a study dimension at a value, e.g. sample_rate=0 or selection=confidence (repeatable)")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    worker = study_command("worker", "join a shared study (journal file or PostgreSQL) and run trials until its total", _worker)
    worker.add_argument("--data-dir", help="folder holding the data files the spec names")
    worker.add_argument("--n-trials", type=int, help="the study's total of finished trials, across all workers")
    worker.add_argument("--timeout", type=float, help="seconds this worker spends on new trials")
    worker.add_argument("--study-name", help="study name, overriding the spec")
    worker.add_argument("--n-jobs", type=int,
                        help="threads per model (default: all cores; 1 with a journal file, whose workers share a machine)")
    worker.add_argument("--fixed-param", action="append", metavar="NAME=VALUE",
                        help="hold a study dimension at a value (every worker must pass the same)")

    export = study_command("export", "refit the best trial of an existing study and export it", _export)
    export.add_argument("--data-dir", help="folder holding the data files the spec names")
    export.add_argument("--study-name", help="study name, overriding the spec")
    export.add_argument("--out", required=True, help="directory to write the model to")
    export.add_argument("--n-jobs", type=int, help="threads per model (default: all cores)")

    dashboard = study_command("dashboard", "open optuna-dashboard on the spec's study storage", _dashboard)
    dashboard.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    dashboard.add_argument("--port", type=int, default=8080)

    report = study_command("report", "write one self-contained HTML page of plots about a study", _report)
    report.add_argument("--study-name", help="study name, overriding the spec")
    report.add_argument("-o", "--output", required=True, help="HTML file to write, e.g. report.html")

    predict = commands.add_parser("predict", help="predict with an exported model", description="predict with an exported model")
    predict.add_argument("model", help="model directory written by run --export or export")
    predict.add_argument("input", help="CSV or Parquet file with the feature columns")
    predict.add_argument("-o", "--output", required=True, help="CSV or Parquet file to write")
    predict.set_defaults(handler=_predict)
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
