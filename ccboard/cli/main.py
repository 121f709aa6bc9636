"""Entry point of the `ccboard` command (console script ccboard.cli.main:main)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import ccboard


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="ccboard",
        description="Voice-board driver and DSP media engine for telephony servers.",
    )
    parser.add_argument("--version", action="version", version=f"ccboard {ccboard.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    demo = sub.add_parser(
        "demo",
        help="simulate callers keying digits on many channels and decode them in 1 ms ticks",
        description="Generate a call's worth of audio on many simulated channels (callers keying an "
        "account number, menu choices and a PIN with human timing over line noise and speech-like "
        "noise), G.711-encode it, decode the digits in 1 ms ticks of 8 samples per channel as a "
        "DAHDI board hands them over, and report accuracy, tick cost and detection latency. "
        "Exit status 1 if any digit was wrong or missed.",
    )
    demo.add_argument(
        "--channels",
        type=_positive_int,
        default=960,
        help="simulated channels (default 960 = 32 E1 spans)",
    )
    demo.add_argument(
        "--seconds",
        type=_positive_float,
        default=20.0,
        help="audio per channel, s (default 20)",
    )
    demo.add_argument(
        "--law",
        choices=("alaw", "ulaw", "linear"),
        default="alaw",
        help="line coding (default alaw)",
    )
    demo.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    demo.add_argument(
        "--show",
        type=int,
        default=4,
        help="channels whose digits are listed (default 4)",
    )
    from ccboard.cli.board import add_board_commands

    add_board_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from ccboard.cli.demo import run_demo

        return run_demo(
            channels=args.channels,
            seconds=args.seconds,
            law=args.law,
            seed=args.seed,
            show=args.show,
        )
    from ccboard.cli.board import BOARD_COMMANDS, run_board_command

    if args.command in BOARD_COMMANDS:
        return run_board_command(args)
    raise AssertionError(f"unhandled command {args.command!r}")  # argparse refuses unknown ones


if __name__ == "__main__":
    sys.exit(main())
