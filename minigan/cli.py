"""The `minigan` command (also `python -m minigan`): train a GAN, sample from it, list the models.

    minigan train --model dcgan --loss ns --data mnist --epochs 1 --out runs/dcgan
    minigan sample --checkpoint runs/dcgan/last.npz --n 64 --out grid.png
    minigan models
    minigan eval --checkpoint runs/dcgan/last.npz --json metrics.json
    minigan lesson 6 --fast
    minigan exercises check all --path my-copy

``--device cuda`` (train, sample, eval) computes on an NVIDIA GPU through CuPy, as ``MINIGAN_DEVICE=cuda``
does. A mistake in the arguments, a missing or damaged file, or a GPU asked for where there is none
prints one line and exits with status 2.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import pathlib
import sys
import typing
from collections.abc import Sequence

from . import __version__
from .backend import keep_freed_memory

if typing.TYPE_CHECKING:
    from .exercises import ExerciseFile, Result


class UsageError(Exception):
    """Bad arguments or paths: reported in one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> typing.NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def add_config_options(parser: argparse.ArgumentParser) -> None:
    """One option per `TrainConfig` field: its name, type, default, help and choices come from the field."""
    from .training import TrainConfig

    hints = typing.get_type_hints(TrainConfig)
    for field in dataclasses.fields(TrainConfig):
        meta, kind = field.metadata, hints[field.name]
        if kind is bool:  # a switch: --binarize turns a feature on, --no-progress one off
            action = "store_false" if field.default else "store_true"
            parser.add_argument(meta["flag"], dest=field.name, action=action, help=meta["help"])
            continue
        kind = next((t for t in typing.get_args(kind) if t is not type(None)), kind)  # X | None -> X
        extra = {"nargs": 2, "type": float, "metavar": "B"} if typing.get_origin(kind) is tuple else {"type": kind}
        shown = "" if field.default is None or "default" in meta["help"] else " (default: %(default)s)"
        parser.add_argument("--" + field.name.replace("_", "-"), default=field.default, choices=meta.get("choices"),
                            help=meta["help"] + shown, **extra)


def build_parser() -> Parser:
    from .backend import DEVICES

    parser = Parser(prog="minigan", description="GANs and VAEs on a tiny autodiff engine.")
    parser.add_argument("--version", action="version", version=f"minigan {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    from .gan.recipes import LOSSES

    losses = "\n".join(f"  {name:11s} {recipe.describe()}" for name, recipe in LOSSES.items())
    train = commands.add_parser("train", help="train a GAN or a VAE; write samples, losses and checkpoints to a run "
                                "directory",
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=f"losses (--loss) and what each trains with by default:\n{losses}")
    add_config_options(train)
    train.add_argument("--resume", action="store_true", help="continue from the run directory's last.npz")

    sample = commands.add_parser("sample", help="draw samples from a checkpoint's generator (or VAE) into a PNG grid")
    sample.add_argument("--checkpoint", required=True,
                        help="a checkpoint written by minigan train (e.g. runs/dcgan/last.npz)")
    sample.add_argument("--n", type=int, default=64, help="number of samples (default: %(default)s)")
    sample.add_argument("--out", default="samples.png", help="PNG to write (default: %(default)s)")
    sample.add_argument("--label", type=int, default=None,
                        help="the digit (cdcgan), the mode (toy_cgan) or the code (infogan, toy_infogan) to draw")
    sample.add_argument("--seed", type=int, default=0)

    commands.add_parser("models", help="list the models")

    evaluate = commands.add_parser(
        "eval", help="score a generator, a VAE (also its likelihood) or real data with the shipped MNIST classifier, "
        "or 2-D points by their modes")
    source = evaluate.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="a checkpoint written by minigan train")
    source.add_argument("--real", choices=["test", "train", "noise"],
                        help="score real images (test: the sanity anchor) or noise")
    evaluate.add_argument("--n", type=int, default=None,
                          help="number of samples (default: 10,000); a VAE's test images for its likelihood "
                          "(default: 1,000; it is scored on 10,000 samples)")
    evaluate.add_argument("--k", type=int, default=None,
                          help="a VAE's importance samples per test image for its NLL (default: 1000; 0: skip)")
    evaluate.add_argument("--json", default=None, help="also write the metrics to this JSON file")
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    for computes in (train, sample, evaluate):
        computes.add_argument("--device", choices=DEVICES, default=None,
                              help="cpu, or cuda: an NVIDIA GPU, through CuPy (default: $MINIGAN_DEVICE, else cpu)")

    retrain = commands.add_parser("train-classifier", help="retrain the shipped MNIST classifier, deterministically")
    retrain.add_argument("--out", default=None,
                         help="where to write the weights (default: the file inside the package)")
    retrain.add_argument("--seed", type=int, default=0)
    retrain.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")

    demo = commands.add_parser("demo", help="derivatives of any order, and a small network fitted by gradient descent")
    demo.add_argument("--out", default="demo.png", help="where to write the picture (default: %(default)s)")

    lesson = commands.add_parser("lesson", help="step through a lesson in the terminal, a cell at a time (no number: "
                                 "list the lessons)")
    lesson.add_argument("number", nargs="?", type=int, help="the lesson's number (3 or 03)")
    lesson.add_argument("--fast", action="store_true", help="less data and fewer steps, for a quick run")
    lesson.add_argument("--seed", type=int, default=None, help="the lesson's seed (default: the lesson's own)")

    exercises = commands.add_parser("exercises", help="the exercises: list them, make a student's copy, check "
                                    "answers, grade a class (docs/teaching.md)")
    actions = exercises.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser, required=True)
    actions.add_parser("list", help="every exercise: its id, title, the lesson it follows, its points")
    make = actions.add_parser("make-student", help="write OUTDIR/exercises/, the exercises with the solutions taken "
                              "out and the hidden checks dropped, to hand out")
    make.add_argument("outdir", metavar="OUTDIR")
    make.add_argument("--force", action="store_true", help="overwrite the files already there")
    check = actions.add_parser("check", help="grade exercises, each in a process of its own, one line each; exit "
                               "status 0 if all pass, 1 if not")
    check.add_argument("ids", nargs="+", metavar="N.M", help="an exercise (1.2), all of a file's (1), or all")
    check.add_argument("--path", default=None, metavar="DIR", help="the folder that holds the exercises/ to "
                       "check, as make-student writes it (default: the reference solutions, which all pass)")
    check.add_argument("--json", default=None, metavar="PATH", help="also write the results to this JSON file")
    grade = actions.add_parser("grade", help="grade every student's folder in DIR (each holds exercises/) into a "
                               "CSV; runs their code on this machine, not in a sandbox: see docs/teaching.md")
    grade.add_argument("submissions", metavar="DIR")
    grade.add_argument("--csv", required=True, metavar="PATH", help="the CSV to write: student, exercise, points, "
                       "max_points, message; a total row per student")
    for graded in (check, grade):
        graded.add_argument("--timeout", type=float, default=60.0, metavar="S",
                            help="seconds each exercise may take (default: %(default)g)")
        graded.add_argument("--memory", type=float, default=4.0, metavar="GIB",
                            help="GiB of memory each exercise's process may map (default: %(default)g; 0: no limit)")
        graded.add_argument("--jobs", type=int, default=None, metavar="N",
                            help="processes at a time (default: one per CPU)")
    return parser


def use_device(device: str | None) -> None:
    """Make ``--device`` (if given) the default device, where every tensor of the command is made, as
    ``$MINIGAN_DEVICE`` does. Checked before any work: a missing CuPy or GPU is one line, not a traceback."""
    import os

    from .backend import default_device

    if device is not None:
        os.environ["MINIGAN_DEVICE"] = device
    try:
        default_device()
    except (ValueError, RuntimeError) as error:  # no CuPy or no GPU (the reason is in it); a bad $MINIGAN_DEVICE
        raise UsageError(str(error)) from None


def train(args: argparse.Namespace) -> int:
    from .checkpoint import CheckpointError
    from .data import IDXError
    from .gan.training import Trainer
    from .training import Run, TrainConfig, TrainingDiverged
    from .vae.training import VAETrainer

    use_device(args.device)
    options = {key: value for key, value in vars(args).items() if key not in ("command", "resume", "device")}
    try:
        config = TrainConfig(**options)
        trainer: Run = (VAETrainer if config.is_vae else Trainer)(config, resume=args.resume)
    except ValueError as error:  # a bad value, or a model that does not fit the data
        if isinstance(error, (CheckpointError, IDXError)):
            raise
        raise UsageError(f"minigan train: {error}") from None
    config = trainer.cfg
    data = f"the IDX files in {config.data_dir}" if config.data_dir else config.data
    objective = f"the {config.loss} loss" if config.loss else f"the ELBO (beta {config.beta})"
    print(f"Training {config.model} with {objective} on {data}: {trainer.total_steps} steps "
          f"(from step {trainer.step}), run directory {config.out}")
    try:
        status = trainer.train()
    except TrainingDiverged as error:
        print(f"minigan train: {error}", file=sys.stderr)
        return 1
    samples = trainer.path("samples.png")
    print(f"{'Interrupted; saved' if status == 'interrupted' else 'Done; saved'} {trainer.checkpoint_path} at step "
          f"{trainer.step}. Samples: {samples}")
    return 0


GIVEN = "cdcgan, infogan, toy_cgan, toy_infogan"  # the models `minigan sample --label` can ask


def sample(args: argparse.Namespace) -> int:
    import numpy as np

    from . import evaluation, plotting
    from .creation import tensor
    from .vae.models import VAE

    use_device(args.device)
    model, config = evaluation.load_model(args.checkpoint)
    if args.n < 1:
        raise UsageError(f"minigan sample: --n must be at least 1, got {args.n}")
    if isinstance(model, VAE):
        if args.label is not None:
            raise UsageError(f"minigan sample: --label needs a model given a label or a code ({GIVEN}), "
                             f"this checkpoint is {model.name}")
        z = np.random.default_rng(args.seed).standard_normal((args.n, model.latent_dim)).astype(np.float32)
        plotting.save_image_grid(model.sample(tensor(z)), args.out, value_range=(0.0, 1.0))
        print(f"Wrote {args.n} samples to {args.out}")
        return 0
    gan = model
    choices = gan.given_values
    if args.label is not None and not choices:
        raise UsageError(f"minigan sample: --label needs a model given a label or a code ({GIVEN}), "
                         f"this checkpoint is {gan.name}")
    if args.label is not None and not 0 <= args.label < choices:
        raise UsageError(f"minigan sample: --label must be in 0..{choices - 1}, got {args.label}")
    out = evaluation.generate(gan, args.n, args.seed, args.label)
    if gan.data == "2d":
        plotting.save_points(out, args.out, config["data"], title=f"{gan.name} / {config['loss']}: "
                                      f"{args.n} samples, step {config.get('step', '?')}")
    else:
        plotting.save_image_grid(out, args.out, value_range=(0.0, 1.0) if gan.scale == "unit" else (-1.0, 1.0))
    print(f"Wrote {args.n} samples to {args.out}")
    return 0


def evaluate(args: argparse.Namespace) -> int:
    import json

    from . import evaluation
    from .vae.models import VAE

    use_device(args.device)
    if args.n is not None and args.n < 2:
        raise UsageError(f"minigan eval: --n must be at least 2, got {args.n}")
    if args.k is not None and args.k < 0:
        raise UsageError(f"minigan eval: --k must be at least 0, got {args.k}")
    note = None
    if args.real:
        if args.k is not None:
            raise UsageError("minigan eval: --k is a VAE's (importance samples), not for --real")
        n = args.n or 10_000
        what = f"{n} real {args.real} images" if args.real != "noise" else f"{n} uniform noise images"
        images, labels = evaluation.real_images(args.real, n, args.seed)
        result = evaluation.image_metrics(images, labels, progress=args.progress)
    else:
        model, config = evaluation.load_model(args.checkpoint)
        step = config.get("step", "?")
        try:
            if isinstance(model, VAE):
                n, k = args.n or 1000, 1000 if args.k is None else args.k
                what = (f"{model.name} (a VAE) at step {step}: likelihood on the first {n} test images"
                        f"{' (binarised)' if config.get('binarize') else ''}, k = {k}; 10,000 samples")
                result = evaluation.vae_metrics(model, n_test=n, k=k, seed=args.seed,
                                                binarized=bool(config.get("binarize")), data_dir=config.get("data_dir"),
                                                progress=args.progress)
                if model.likelihood == "bernoulli" and not config.get("binarize"):
                    note = ("note: a Bernoulli p(x|z) on grey-level pixels is not a true likelihood, so these NLLs "
                            "are cross-entropies in nats; train with --binarize for a true one")
            else:
                if args.k is not None:
                    raise UsageError("minigan eval: --k is a VAE's (importance samples); this checkpoint is a GAN")
                n = args.n or 10_000
                what = f"{n} samples of {model.name} / {config['loss']} at step {step}"
                result = evaluation.evaluate(model, n, config["data"], args.seed, progress=args.progress)
        except ValueError as error:
            raise UsageError(f"minigan eval: {error}") from None
    print(f"Metrics of {what}")
    for key, value in result.items():
        print(f"  {key:20s} {value:.4f}" if isinstance(value, float) else f"  {key:20s} {value}")
    if note:
        print(note)
    if args.json:
        with open(args.json, "w") as f:
            strict = evaluation.strict_json(result)
            json.dump(strict, f, indent=2, allow_nan=False)
        print(f"Wrote {args.json}{' (inf and nan as null)' if strict != result else ''}")
    return 0


def train_classifier(args: argparse.Namespace) -> int:
    from .classifier import DEFAULT_WEIGHTS_PATH, train_classifier

    result = train_classifier(out=args.out or DEFAULT_WEIGHTS_PATH, seed=args.seed, progress=args.progress)
    print(f"Test accuracy {result['test_accuracy']:.4f}; weights in {args.out or DEFAULT_WEIGHTS_PATH}")
    return 0


def models(args: argparse.Namespace) -> int:
    from .models import describe

    described = describe()
    width = max(map(len, described))
    for name, line in described.items():
        print(f"{name:{width}s} {line}")
    return 0


def lesson(args: argparse.Namespace) -> int:
    import os

    from . import lessons

    folder = lessons.folder()
    if folder is None:
        raise UsageError("minigan lesson: the lessons are not installed with the package; they are in the lessons/ "
                         "folder of minigan's repository (clone it and pip install -e . there)")
    if args.number is None:
        for path in lessons.every_lesson(folder):
            print(f"{path.stem:20s} {lessons.title(path)}")
        return 0
    chosen = lessons.find(folder, args.number)
    if chosen is None:
        raise UsageError(f"minigan lesson: no lesson {args.number} in {folder} (minigan lesson lists them)")
    # the lesson runs in this process and reads its options from the environment, as in a notebook
    if args.fast:
        os.environ["MINIGAN_FAST"] = "1"
    if args.seed is not None:
        os.environ["MINIGAN_SEED"] = str(args.seed)
    return lessons.step_through(chosen, input=input if sys.stdin.isatty() else None)


def exercises(args: argparse.Namespace) -> int:
    from . import exercises as ex

    command = f"minigan exercises {args.action}"
    try:
        files = [ex.read(path) for path in ex.every_file(ex.reference_folder(None, "minigan exercises"))]
    except FileNotFoundError as error:  # not an editable install: where the exercises are
        raise UsageError(str(error)) from None
    except ValueError as error:  # a malformed exercise file: what to fix, and where
        raise UsageError(f"{command}: {error}") from None
    if args.action == "list":
        return list_exercises(files)
    if args.action == "make-student":
        try:
            written = ex.make_student(args.outdir, force=args.force)
        except FileExistsError:
            raise UsageError(f"{command}: {pathlib.Path(args.outdir, 'exercises')} already holds files it would write; "
                             "--force overwrites them") from None
        print(f"Wrote {len(written)} files to {written[0].parent}, the exercises without their solutions and hidden "
              f"checks. In {args.outdir}, python exercises/{written[0].name} runs the first file; from anywhere, "
              f"minigan exercises check all --path {args.outdir} grades the copy")
        return 0
    if not (0 < args.timeout < math.inf and 0 <= args.memory < math.inf) or (args.jobs is not None and args.jobs < 1):
        raise UsageError(f"{command}: expected --timeout above 0, --memory 0 or more, --jobs 1 or more; got "
                         f"{args.timeout:g}, {args.memory:g}, {args.jobs}")
    limits = dict(timeout=args.timeout, memory=int(args.memory * ex.GiB) or None, jobs=args.jobs)
    if args.action == "grade":
        if not pathlib.Path(args.submissions).is_dir():
            raise UsageError(f"{command}: {args.submissions} is not a folder (expected one with a folder per student)")
        graded = ex.grade(args.submissions, args.csv, **limits)
        for student, results in graded.items():
            print(f"{student:20s} {sum(r.points for r in results):g}/{sum(r.max_points for r in results):g}")
        for entry in sorted(pathlib.Path(args.submissions).iterdir()):  # what grade() gave a row of 0
            if not entry.is_dir() and not entry.name.startswith("."):
                print(f"{entry.name:20s} 0: not a folder")
        print(f"Wrote {args.csv}: {len(graded)} students' folders graded")
        return 0
    if args.path is not None and not (pathlib.Path(args.path) / "exercises").is_dir():
        raise UsageError(f"{command}: --path {args.path}: expected a folder with exercises/ in it, as make-student "
                         "writes it")
    try:
        results = ex.check(args.ids, args.path, **limits)
    except ValueError as error:  # an id that names no exercise
        raise UsageError(f"{command}: {error.args[0].removeprefix('check: ')}") from None
    return report(results, args.json)


def list_exercises(files: list[ExerciseFile]) -> int:
    """A table of every exercise (id, title, the lessons its file follows, points), then the total."""
    rows = [("id", "title", "lesson", "points")]
    rows += [(e.id, e.title, ", ".join(name.removeprefix("lessons/").removesuffix(".py") for name in f.follows),
              f"{e.points:g}") for f in files for e in f.exercises]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print(f"{row[0]:{widths[0]}}  {row[1]:{widths[1]}}  {row[2]:{widths[2]}}  {row[3]}")
    print(f"total: {len(rows) - 1} exercises, {sum(e.points for f in files for e in f.exercises):g} points")
    return 0


def report(results: list[Result], json_path: str | None) -> int:
    """One line per exercise checked, then the total; 0 if all passed, else 1."""
    import json

    width = max((len(r.title) for r in results), default=0)
    for r in results:
        verdict = "pass" if r.passed else f"FAIL: {r.message}"
        print(f"{r.id:5s} {r.title:{width}}  {r.points:g}/{r.max_points:g}  {verdict}")
    points, max_points = sum(r.points for r in results), sum(r.max_points for r in results)
    print(f"total: {points:g}/{max_points:g} points, {sum(r.passed for r in results)} of {len(results)} passed")
    if json_path:
        with open(json_path, "w", encoding="utf-8") as f:
            json.dump({"results": [r._asdict() for r in results], "points": points, "max_points": max_points}, f,
                      indent=2)
    return 0 if all(r.passed for r in results) else 1


def main(argv: Sequence[str] | None = None) -> int:
    from .checkpoint import CheckpointError
    from .data import IDXError, MissingDataError

    keep_freed_memory()  # this process is minigan's own: its allocator may be tuned for training
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            build_parser().print_help()
            return 2
        if args.command == "demo":
            from . import demo

            return demo.main(args.out)
        commands = {"train": train, "sample": sample, "models": models, "eval": evaluate,
                    "train-classifier": train_classifier, "lesson": lesson, "exercises": exercises}
        return commands[args.command](args)
    except (UsageError, CheckpointError, IDXError, MissingDataError, OSError) as error:  # OSError: an output path
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(message if message.startswith("minigan") else f"minigan: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
