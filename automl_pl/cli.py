"""The ``automl-pl`` command: parse, call the Python API, print. No logic of its own.

    automl-pl run SPEC [--data-dir DIR] [--n-trials N] [--timeout S] [--storage URL] [--study-name NAME]
                       [--export DIR] [--fixed-param NAME=VALUE ...] [--n-jobs N] [--no-progress] [-q | -v ...]
    automl-pl worker SPEC [--data-dir DIR] [--storage URL] [--n-trials N] [--timeout S] [--n-jobs N] [-q | -v ...]
    automl-pl export SPEC [--data-dir DIR] [--storage URL] [--study-name NAME] [--out DIR] [--n-jobs N]
                          [--format automl_pl|mlflow|onnx]
    automl-pl predict MODEL_DIR INPUT -o OUTPUT       (OUTPUT: .csv, .parquet, or - for CSV on standard output)
    automl-pl evaluate MODEL_DIR LABELLED [-o residuals.html]
    automl-pl dashboard SPEC [--storage URL] [--host HOST] [--port PORT]
    automl-pl report SPEC [--storage URL] [--study-name NAME] -o report.html
    automl-pl leaderboard SPEC [--storage URL] [--study-name NAME] [--by trial|family] [-o FILE]

Results (metrics, predictions, where a model was written) go to standard output; progress,
summaries, notices and errors to standard error. ``-q`` silences all but errors and results,
``-v`` adds one line per trial, ``-vv`` Optuna's own lines as well (see :mod:`automl_pl.verbosity`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from automl_pl._files import write_atomically
from automl_pl._version import __version__
from automl_pl.artifact import check_export_target
from automl_pl.portfolio import Portfolio
from automl_pl.spec import TABLE_SUFFIXES, StudySpec, first_line, load_data, load_spec, read_table
from automl_pl.storage import journal_path, open_storage, redact_url

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


EXPORT_RESERVE = (1.0, 0.02)
"""Seconds, and share of ``run --timeout``, the larger of which is kept for exporting the model after
the study (the demo's ensemble of 15 fold models took 0.8 s to write)."""

STDOUT = "-"
"""``predict -o -``: write the predictions as CSV to standard output."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command ``argv`` (default: this process's command line); return its exit status.

    A ``--timeout`` counts from the start of the command: from the process's own start when ``argv``
    is ``None`` (the ``automl-pl`` command: interpreter start and imports count), else from this call
    (``main([...])`` from Python, where the process may have run for long before).
    """
    from automl_pl.budget import seconds_since_process_start

    started = time.monotonic() - (seconds_since_process_start() if argv is None else 0.0)
    parser = _parser()
    args = parser.parse_args(argv)
    args.started = started
    args.verbosity = max(0, min(3, 1 + getattr(args, "verbose", 0) - getattr(args, "quiet", 0)))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    shown = warnings.showwarning
    warnings.showwarning = _show_warning  # one line each, without the source line
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print(f"{_new_line()}interrupted: finished trials are kept in the study; run the same command again "
              "to continue.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ValueError, TypeError, ImportError, RuntimeError, OSError) as exc:
        print(f"automl-pl: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        warnings.showwarning = shown


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"automl-pl: warning: {message}", file=sys.stderr if file is None else file)


def _new_line() -> str:
    """A line break first where a progress bar may have been left mid-line."""
    try:
        return "\n" if sys.stderr.isatty() else ""
    except (AttributeError, ValueError):
        return ""


def _info(args: argparse.Namespace, text: str) -> None:
    """A notice on standard error, unless ``-q``."""
    if args.verbosity >= 1:
        print(text, file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    spec = _spec(args)
    if spec.export_dir is not None:
        check_export_target(spec.export_dir)  # fail now, not after the study
    X, y, X_unlabeled = load_data(spec)
    _info(args, f"study {spec.study_name!r} on {redact_url(spec.storage)}: {len(X)} labelled rows, "
                f"{0 if X_unlabeled is None else len(X_unlabeled)} unlabelled, target {y.name!r}")
    result = _tune(spec, X, y, X_unlabeled, n_jobs=args.n_jobs, show_progress_bar=not args.no_progress,
                   verbosity=args.verbosity, started=args.started)  # which says the summary
    if spec.export_dir is not None:
        print(f"exported the best model to {result.export(spec.export_dir, ignored_columns=spec.drop)}")
    else:
        print(f"not exported: {spec.path.name} has no [export] dir. Export the best model with "
              f"`automl-pl export {args.spec} --out DIR`, or give run --export DIR, "
              f"or add [export] dir = \"...\" to the spec.")
    return 0


def _tune(spec: StudySpec, X: pd.DataFrame, y: pd.Series, X_unlabeled: pd.DataFrame | None, *, n_jobs: int | None,
          show_progress_bar: bool, verbosity: int, started: float, worker: bool = False):
    """``tune`` with the spec's settings: the one call behind ``run`` and ``worker``.

    The spec's timeout is for the whole command: what the command spent since ``started`` (see
    :func:`main`: start, imports, reading the data) and ``EXPORT_RESERVE`` for writing the model are
    taken off what ``tune`` gets.
    """
    from automl_pl.study import tune

    timeout = spec.timeout
    if timeout is not None:
        spent = time.monotonic() - started
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
        verbosity=verbosity, worker=worker, ensemble=spec.ensemble, bagging=spec.bagging, stacking=spec.stacking,
        portfolio=Portfolio.read(spec.portfolio) if isinstance(spec.portfolio, Path) else spec.portfolio,
        teacher_round=spec.teacher_round,
    )


def _worker(args: argparse.Namespace) -> int:
    from automl_pl.optimize import worker_name
    from automl_pl.study import check_worker_storage

    spec = _spec(args)
    check_worker_storage(spec.storage)  # before loading the data; tune checks again for Python callers
    X, y, X_unlabeled = load_data(spec)
    # Workers sharing a journal file share this machine's cores: one model thread each unless told.
    n_jobs = args.n_jobs if args.n_jobs is not None or journal_path(spec.storage) is None else 1
    _info(args, f"worker {worker_name()} joins study {spec.study_name!r} on {redact_url(spec.storage)}")
    _tune(spec, X, y, X_unlabeled, n_jobs=n_jobs, show_progress_bar=not args.no_progress, verbosity=args.verbosity,
          started=args.started, worker=True)
    print(f"when every worker is done, export the best model once: automl-pl export {args.spec}"
          f"{'' if spec.export_dir is not None else ' --out DIR'}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from automl_pl.study import refit_best

    spec = _spec(args)
    out = args.out if args.out is not None else spec.export_dir
    if out is None:
        raise ValueError(f"export needs a directory to write the model to: give --out DIR, or add "
                         f"[export] dir = \"...\" to {spec.path.name}.")
    if args.format == "automl_pl":
        check_export_target(out)
    X, y, X_unlabeled = load_data(spec)
    result = refit_best(X, y, X_unlabeled=X_unlabeled, storage=spec.storage, study_name=spec.study_name,
                        n_jobs=args.n_jobs, bagging=spec.bagging)
    _info(args, result.summary())
    written = {"automl_pl": lambda: result.export(out, ignored_columns=spec.drop),
               "mlflow": lambda: result.export_mlflow(out, ignored_columns=spec.drop),
               "onnx": lambda: result.export_onnx(out)}[args.format]()
    print(f"exported the best model to {written}")
    return 0


def _predict(args: argparse.Namespace) -> int:
    source = Path(args.input)
    to_stdout = args.output == STDOUT
    output = None if to_stdout else Path(args.output)
    if output is not None:  # before anything is read: a wrong output loses no work
        if output.suffix.lower() not in TABLE_SUFFIXES:
            raise ValueError(f"-o {args.output}: cannot write {output.suffix or 'a file without a type'}. "
                             "Write a .csv or .parquet file, or give -o - for CSV on standard output.")
        if output.resolve() == source.resolve():
            raise ValueError(f"-o {args.output} is the input file; refusing to overwrite it. "
                             "Write the predictions to another file.")
    model, rows, features = _model_and_rows(args, source, purpose="nothing to predict")
    if model.target in rows.columns:
        _info(args, f"ignoring the column {model.target!r} of {source.name}: it is the target, which predict "
                    f"does not need (automl-pl evaluate scores the model against it).")
    predictions = model.predict(features)
    kept = [c for c in model.metadata.get("ignored_columns", []) if c in rows.columns]
    out = rows[kept].copy()
    out[model.target] = predictions
    if to_stdout:
        out.to_csv(sys.stdout, index=False)
        return 0
    _write_table(out, output)
    _info(args, f"wrote {len(out)} predictions of {model.target!r} to {output}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    import numpy as np

    from automl_pl.evaluation import evaluate, write_residual_plot

    source = Path(args.input)
    if args.output is not None and Path(args.output).suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"-o {args.output}: the residual plot is an HTML page; give a file ending in .html.")
    model, rows, features = _model_and_rows(args, source, purpose="nothing to evaluate")
    if model.target not in rows.columns:
        raise ValueError(f"{source} has no column {model.target!r}, the target the model predicts: evaluate "
                         f"compares predictions with it. To predict rows without it, use automl-pl predict.")
    truth = pd.to_numeric(rows[model.target], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    scored = np.isfinite(truth)
    if not scored.any():
        raise ValueError(f"{source}: the target {model.target!r} has no numeric value to compare with.")
    if not scored.all():
        _info(args, f"skipping {int((~scored).sum())} rows of {source.name} whose {model.target!r} is missing "
                    "or not a number")
    evaluation = evaluate(truth[scored], model.predict(features[scored]), target=model.target)
    print(f"{model.target!r} on {evaluation.n_rows} rows of {source.name}:\n{evaluation.summary()}")
    if args.output is not None:
        _info(args, f"wrote the residual plot to {write_residual_plot(evaluation, args.output)}")
    return 0


def _model_and_rows(args: argparse.Namespace, source: Path, *, purpose: str):
    """The model, the input's rows, and their feature columns checked against the model's, in file terms.

    The target column and the columns ignored at export (identifiers) are left out of the features.
    """
    from automl_pl.artifact import load_model

    rows = read_table(source, what="input file", missing_hint="Check the path.")
    if len(rows) == 0:
        raise ValueError(f"{source} has no rows, only a header: {purpose}.")
    model = load_model(args.model)
    ignored = {*model.metadata.get("ignored_columns", []), model.target} - set(model.schema.names)
    features = rows.drop(columns=[c for c in rows.columns if c in ignored])
    try:
        model.schema.check(features, what=str(source), first_line=first_line(source))
    except (TypeError, ValueError) as exc:
        raise type(exc)(str(exc).replace("the training features", "the model's features")) from None
    return model, rows, features


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


def _leaderboard(args: argparse.Namespace) -> int:
    import optuna

    from automl_pl.leaderboard import format_leaderboard, leaderboard

    spec = _spec(args)
    if args.output is not None and Path(args.output).suffix.lower() not in TABLE_SUFFIXES:
        raise ValueError(f"-o {args.output}: write the leaderboard to a .csv or .parquet file.")
    try:
        study = optuna.load_study(study_name=spec.study_name, storage=open_storage(spec.storage))
    except KeyError:
        raise ValueError(f"no study named {spec.study_name!r} in {redact_url(spec.storage)}. Run it first.") from None
    table = leaderboard(study, by=args.by)
    print(format_leaderboard(table))
    if args.output is not None:
        _write_table(table, Path(args.output))
        _info(args, f"wrote the leaderboard of study {spec.study_name!r} to {args.output}")
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
    return {**(spec.fixed_params or {}), **assignments(pairs, flag="--fixed-param", example="sample_rate=0.0")}


def assignments(pairs: Sequence[str], *, flag: str, example: str) -> dict[str, Any]:
    """``NAME=VALUE`` command-line items as ``{NAME: VALUE}``, each VALUE read as JSON if it parses, else kept as text.

    Raises:
        ValueError: an item has no ``=`` or no name; the message shows ``flag`` used as in ``example``.
    """
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"{flag} takes NAME=VALUE, e.g. {example}; got {pair!r}")
        try:
            values[name] = json.loads(text)
        except json.JSONDecodeError:
            values[name] = text
    return values


def _write_table(frame: pd.DataFrame, path: Path) -> None:
    """CSV or Parquet by suffix, written beside and renamed, so a failure never leaves half a file."""
    parquet = path.suffix.lower() in (".parquet", ".pq")
    write_atomically(path, lambda staging: frame.to_parquet(staging, index=False) if parquet
                     else frame.to_csv(staging, index=False))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="automl-pl", description="AutoML for tabular regression with pseudo-labelling.")
    parser.add_argument("--version", action="version", version=f"automl_pl {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    # The options several commands share, each defined once.
    study = argparse.ArgumentParser(add_help=False)
    study.add_argument("spec", help="study spec (TOML), e.g. studies/demo.toml")
    study.add_argument("--storage", help="Optuna storage URL, overriding the spec")
    named = argparse.ArgumentParser(add_help=False)
    named.add_argument("--study-name", help="study name, overriding the spec")
    data = argparse.ArgumentParser(add_help=False)
    data.add_argument("--data-dir", help="folder holding the data files the spec names")
    data.add_argument("--n-jobs", type=int,
                      help="threads per model (default: all cores; for a worker on a journal file, 1)")
    trials = argparse.ArgumentParser(add_help=False)
    trials.add_argument("--n-trials", type=int, help="the study's total of finished trials, across all workers")
    trials.add_argument("--timeout", type=float, help="seconds to spend on new trials")
    trials.add_argument("--fixed-param", action="append", metavar="NAME=VALUE",
                        help="hold a study dimension at a value, e.g. sample_rate=0 or selection=confidence "
                             "(repeatable; every worker must pass the same)")
    trials.add_argument("--no-progress", action="store_true",
                        help="no progress display (a bar on a terminal, one line per trial elsewhere)")
    talk = argparse.ArgumentParser(add_help=False)
    talk.add_argument("-q", "--quiet", action="count", default=0, help="only errors and results")
    talk.add_argument("-v", "--verbose", action="count", default=0,
                      help="one line per trial; -vv also Optuna's own lines with each trial's parameters")

    def command(name: str, help: str, handler, parents: Sequence[argparse.ArgumentParser]) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help, parents=list(parents))
        sub.set_defaults(handler=handler)
        return sub

    run = command("run", "run (or continue) a study, then refit and export its best model", _run,
                  [study, named, data, trials, talk])
    run.add_argument("--export", help="directory to export the best model to, overriding the spec")
    command("worker", "join a shared study (journal file or PostgreSQL) and run trials until its total", _worker,
            [study, named, data, trials, talk])
    export = command("export", "refit the best trial of an existing study and export it", _export,
                     [study, named, data, talk])
    export.add_argument("--out", help="directory to write the model to (default: the spec's [export] dir); "
                        "for --format onnx, a file (model.onnx)")
    export.add_argument("--format", choices=["automl_pl", "mlflow", "onnx"], default="automl_pl",
                        help="automl_pl: the artifact directory (default); mlflow: an MLflow pyfunc model "
                             "directory (extra mlflow); onnx: one ONNX file (extra onnx)")
    dashboard = command("dashboard", "open optuna-dashboard on the spec's study storage", _dashboard, [study])
    dashboard.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    dashboard.add_argument("--port", type=int, default=8080)
    report = command("report", "write one self-contained HTML page of plots about a study", _report, [study, named])
    report.add_argument("-o", "--output", required=True, help="HTML file to write, e.g. report.html")
    board = command("leaderboard", "print a study's trials (or model families), best first", _leaderboard,
                    [study, named, talk])
    board.add_argument("--by", choices=["trial", "family"], default="trial",
                       help="one row per trial (default) or per model family")
    board.add_argument("-o", "--output", help="also write the table to a .csv or .parquet file")

    model = argparse.ArgumentParser(add_help=False)
    model.add_argument("model", help="model directory written by run --export or export")
    predict = command("predict", "predict with an exported model", _predict, [model, talk])
    predict.add_argument("input", help="CSV or Parquet file with the feature columns (a target column is ignored)")
    predict.add_argument("-o", "--output", required=True,
                         help="file to write: .csv or .parquet, or - for CSV on standard output")
    evaluate = command("evaluate", "score an exported model on labelled rows: RMSE, MAE, R²", _evaluate, [model, talk])
    evaluate.add_argument("input", help="CSV or Parquet file with the feature columns and the target")
    evaluate.add_argument("-o", "--output", help="HTML file for the residual plot, e.g. residuals.html")
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
