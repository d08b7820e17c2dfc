"""The `minigan` command (also `python -m minigan`): train a GAN, sample from it, list the models.

    minigan train --model dcgan --loss ns --data mnist --epochs 1 --out runs/dcgan
    minigan sample --checkpoint runs/dcgan/last.npz --n 64 --out grid.png
    minigan models
    minigan eval --checkpoint runs/dcgan/last.npz --json metrics.json

A mistake in the arguments, or a missing or damaged file, prints one line and exits with status 2.
"""
import argparse
import os
import sys

from . import __version__


class UsageError(Exception):
    """Bad arguments or paths: reported in one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{self.prog}: {message}")


def build_parser():
    from .gan.training import LR_DECAYS

    parser = Parser(prog="minigan", description="GANs and VAEs on a tiny autodiff engine.")
    parser.add_argument("--version", action="version", version=f"minigan {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    train = commands.add_parser("train", help="train a GAN and write samples, losses and checkpoints to a run directory")
    train.add_argument("--model", default="dcgan", help="mlp, atgan, dcgan, dcgan32, cdcgan, infogan or toy (default: %(default)s)")
    train.add_argument("--loss", default="ns", help="minimax, ns, ns-r1, wgan, wgan-gp, hinge or article001 (default: %(default)s)")
    train.add_argument("--data", default=None, help="mnist (images) or ring8, grid25 (2-D); default: mnist, or ring8 for --model toy")
    train.add_argument("--data-dir", default=None, help="a folder of IDX files (e.g. Fashion-MNIST) instead of the bundled MNIST")
    train.add_argument("--out", default=None, help="run directory (default: runs/MODEL)")
    train.add_argument("--epochs", type=float, default=1.0, help="passes over the data (default: %(default)s)")
    train.add_argument("--steps", type=int, default=None, help="stop after this many generator updates (overrides --epochs)")
    train.add_argument("--batch-size", type=int, default=64)
    train.add_argument("--lr", type=float, default=None, help="learning rate (default: the loss's, e.g. 2e-4; 1e-4 for wgan-gp)")
    train.add_argument("--n-critic", type=int, default=None, help="D updates per G update (default: 1; 5 for wgan, wgan-gp)")
    train.add_argument("--gp-lambda", type=float, default=10.0, help="gradient-penalty weight (default: %(default)s)")
    train.add_argument("--r1-gamma", type=float, default=10.0, help="R1 weight for ns-r1 (default: %(default)s)")
    train.add_argument("--lr-decay", default="none", choices=LR_DECAYS,
                       help="linear: both learning rates fall linearly to 0 over the run (default: %(default)s)")
    train.add_argument("--ema", type=float, default=0.0, metavar="DECAY",
                       help="sample from a moving average of G's weights with this decay, e.g. 0.999 (default: off)")
    train.add_argument("--pack", type=int, default=1, help="PacGAN: D judges packs of this many samples (default: %(default)s)")
    train.add_argument("--info-lambda", type=float, default=1.0, help="infogan: weight of the mutual-information term (default: %(default)s)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--sample-every", type=int, default=200, help="write a sample grid every N steps (default: %(default)s)")
    train.add_argument("--checkpoint-every", type=int, default=500, help="write last.npz every N steps (default: %(default)s)")
    train.add_argument("--eval-every", type=int, default=0, help="compute the eval metrics every N steps into metrics.csv (default: off)")
    train.add_argument("--resume", action="store_true", help="continue from the run directory's last.npz")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")

    sample = commands.add_parser("sample", help="draw samples from a checkpoint's generator into a PNG grid")
    sample.add_argument("--checkpoint", required=True, help="a checkpoint written by minigan train (e.g. runs/dcgan/last.npz)")
    sample.add_argument("--n", type=int, default=64, help="number of samples (default: %(default)s)")
    sample.add_argument("--out", default="samples.png", help="PNG to write (default: %(default)s)")
    sample.add_argument("--label", type=int, default=None, help="the digit (cdcgan) or the code (infogan) to draw")
    sample.add_argument("--seed", type=int, default=0)

    commands.add_parser("models", help="list the models")

    evaluate = commands.add_parser("eval", help="score a generator (or real data) with the shipped MNIST classifier or 2-D mode metrics")
    source = evaluate.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="a checkpoint written by minigan train")
    source.add_argument("--real", choices=["test", "train", "noise"], help="score real images (test: the sanity anchor) or noise")
    evaluate.add_argument("--n", type=int, default=10_000, help="number of samples (default: %(default)s)")
    evaluate.add_argument("--json", default=None, help="also write the metrics to this JSON file")
    evaluate.add_argument("--seed", type=int, default=0)

    retrain = commands.add_parser("train-classifier", help="retrain the shipped MNIST classifier, deterministically")
    retrain.add_argument("--out", default=None, help="where to write the weights (default: the file inside the package)")
    retrain.add_argument("--seed", type=int, default=0)

    demo = commands.add_parser("demo", help="derivatives of any order, and a small network fitted by gradient descent")
    demo.add_argument("--out", default="demo.png", help="where to write the picture (default: %(default)s)")
    return parser


def train(args):
    from .checkpoint import CheckpointError
    from .data import IDXError
    from .gan.training import TrainConfig, Trainer, TrainingDiverged

    data = args.data or ("ring8" if args.model == "toy" else "mnist")
    if args.data_dir and not os.path.isdir(args.data_dir):
        raise UsageError(f"minigan train: --data-dir {args.data_dir} is not a directory")
    for name in ("steps", "batch_size", "n_critic", "pack", "sample_every", "checkpoint_every", "eval_every"):
        value, least = getattr(args, name), 0 if name == "eval_every" else 1
        if value is not None and value < least:
            raise UsageError(f"minigan train: --{name.replace('_', '-')} must be at least {least}, got {value}")
    if not 0 < args.epochs < float("inf"):
        raise UsageError(f"minigan train: --epochs must be a positive number, got {args.epochs}")
    out = args.out or os.path.join("runs", args.model)
    if args.resume and not os.path.exists(os.path.join(out, "last.npz")):
        raise UsageError(f"minigan train: --resume, but {os.path.join(out, 'last.npz')} does not exist")
    config = TrainConfig(model=args.model, loss=args.loss, data="idx" if args.data_dir else data, data_dir=args.data_dir,
                         out=out, epochs=args.epochs, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                         n_critic=args.n_critic, gp_lambda=args.gp_lambda, r1_gamma=args.r1_gamma, lr_decay=args.lr_decay,
                         ema=args.ema, pack=args.pack, info_lambda=args.info_lambda, seed=args.seed,
                         sample_every=args.sample_every, checkpoint_every=args.checkpoint_every,
                         eval_every=args.eval_every, progress=not args.no_progress)
    try:
        trainer = Trainer(config, resume=args.resume)
    except ValueError as error:  # an unknown model or loss, a model that does not fit the data
        if isinstance(error, (CheckpointError, IDXError)):
            raise
        raise UsageError(f"minigan train: {error}") from None
    print(f"Training {config.model} with the {config.loss} loss on {data}: {trainer.total_steps} steps "
          f"(from step {trainer.step}), run directory {out}")
    try:
        status = trainer.train()
    except TrainingDiverged as error:
        print(f"minigan train: {error}", file=sys.stderr)
        return 1
    samples = os.path.join(out, "samples.png")
    print(f"{'Interrupted; saved' if status == 'interrupted' else 'Done; saved'} {trainer.checkpoint_path} at step "
          f"{trainer.step}. Samples: {samples}")
    return 0


def sample(args):
    from . import evaluation, plotting

    gan, _ = evaluation.load_generator(args.checkpoint)
    if args.n < 1:
        raise UsageError(f"minigan sample: --n must be at least 1, got {args.n}")
    choices = gan.given_values
    if args.label is not None and not choices:
        raise UsageError(f"minigan sample: --label needs a model given a digit or a code (cdcgan, infogan), "
                         f"this checkpoint is {gan.name}")
    if args.label is not None and not 0 <= args.label < choices:
        raise UsageError(f"minigan sample: --label must be in 0..{choices - 1}, got {args.label}")
    out = evaluation.generate(gan, args.n, args.seed, args.label)
    if gan.data == "2d":
        plotting.save_points(out, args.out, title=f"{gan.name}: {args.n} samples")
    else:
        plotting.save_image_grid(out, args.out, value_range=(0.0, 1.0) if gan.scale == "unit" else (-1.0, 1.0))
    print(f"Wrote {args.n} samples to {args.out}")
    return 0


def evaluate(args):
    import json

    from . import evaluation

    if args.n < 2:
        raise UsageError(f"minigan eval: --n must be at least 2, got {args.n}")
    if args.real:
        what = f"real {args.real} images" if args.real != "noise" else "uniform noise images"
        result = evaluation.image_metrics(*evaluation.real_images(args.real, args.n, args.seed))
    else:
        gan, config = evaluation.load_generator(args.checkpoint)
        what = f"{gan.name} / {config['loss']} at step {config.get('step', '?')}"
        try:
            result = evaluation.evaluate(gan, args.n, config["data"], args.seed)
        except ValueError as error:
            raise UsageError(f"minigan eval: {error}") from None
    print(f"Metrics of {args.n} samples: {what}")
    for key, value in result.items():
        print(f"  {key:20s} {value:.4f}" if isinstance(value, float) else f"  {key:20s} {value}")
    if args.json:
        with open(args.json, "w") as f:
            strict = evaluation.strict_json(result)
            json.dump(strict, f, indent=2, allow_nan=False)
        print(f"Wrote {args.json}{' (inf and nan as null)' if strict != result else ''}")
    return 0


def train_classifier(args):
    from .classifier import DEFAULT_WEIGHTS_PATH, train_classifier

    result = train_classifier(out=args.out or DEFAULT_WEIGHTS_PATH, seed=args.seed)
    print(f"Test accuracy {result['test_accuracy']:.4f}; weights in {args.out or DEFAULT_WEIGHTS_PATH}")
    return 0


def models(args):
    from .gan.models import describe

    for name, line in describe().items():
        print(f"{name:8s} {line}")
    return 0


def main(argv=None):
    from .checkpoint import CheckpointError
    from .data import IDXError, MissingDataError

    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            build_parser().print_help()
            return 2
        if args.command == "demo":
            from . import demo

            return demo.main(args.out)
        commands = {"train": train, "sample": sample, "models": models, "eval": evaluate, "train-classifier": train_classifier}
        return commands[args.command](args)
    except (UsageError, CheckpointError, IDXError, MissingDataError, OSError) as error:  # OSError: an output path
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(message if message.startswith("minigan") else f"minigan: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
