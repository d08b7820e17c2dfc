"""The `minigan` command (also `python -m minigan`)."""
import argparse
import sys

from . import __version__


def build_parser():
    parser = argparse.ArgumentParser(prog="minigan", description="GANs and VAEs on a tiny autodiff engine.")
    parser.add_argument("--version", action="version", version=f"minigan {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser("demo", help="derivatives of any order, and a small network fitted by gradient descent")
    demo.add_argument("--out", default="demo.png", help="where to write the picture (default: %(default)s)")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "demo":
        from . import demo

        return demo.main(args.out)
    return 2


if __name__ == "__main__":
    sys.exit(main())
