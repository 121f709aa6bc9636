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
        help="the phone bank IVR on the simulated board (--mode callcentre, default) or the DTMF "
        "decoding demo (--mode dtmf)",
        description="Generate a call's worth of audio on many simulated channels (callers keying an "
        "account number, menu choices and a PIN with human timing over line noise and speech-like "
        "noise), G.711-encode it, decode the digits in 1 ms ticks of 8 samples per channel as a "
        "DAHDI board hands them over, and report accuracy, tick cost and detection latency. "
        "Exit status 1 if any digit was wrong or missed.",
    )
    demo.add_argument(
        "--mode",
        choices=("callcentre", "dtmf"),
        default=None,
        help="callcentre (default): simulated customers call the bank's bilingual IVR; dtmf: digits "
        "on many channels decoded in 1 ms ticks (implied by --channels/--seconds/--law/--show)",
    )
    demo.add_argument("--callers", type=_positive_int, default=30, help="callcentre: customers (default 30)")
    demo.add_argument(
        "--circuits",
        type=_positive_int,
        default=30,
        help="callcentre: E1 circuits the callers may seize on each span, R2 and PRI (default 30)",
    )
    demo.add_argument(
        "--lines",
        type=_positive_int,
        default=4,
        help="callcentre: analog FXO lines for callbacks and the follow-up (default 4)",
    )
    demo.add_argument("--agents", type=_positive_int, default=4, help="callcentre: agents (default 4)")
    clock = demo.add_mutually_exclusive_group()
    clock.add_argument(
        "--virtual",
        action="store_true",
        help="callcentre: run in virtual time, as fast as the CPU allows (default: real time)",
    )
    clock.add_argument(
        "--realtime", action="store_true", help="callcentre: real time (the default; kept as an alias)"
    )
    demo.add_argument("--db", default=None, help="callcentre: bank database path (CDRs beside it)")
    demo.add_argument("--record", default=None, help="callcentre: folder for whole-call recordings")
    demo.add_argument("--moh", default=None, help="callcentre: music-on-hold file (WAV or raw G.711)")
    demo.add_argument(
        "--no-live",
        action="store_true",
        help="callcentre: no live dashboard (it is drawn only when stdout is a terminal anyway)",
    )
    demo.add_argument(
        "--channels",
        type=_positive_int,
        default=None,
        help="simulated channels (default 960 = 32 E1 spans)",
    )
    demo.add_argument(
        "--seconds",
        type=_positive_float,
        default=None,
        help="audio per channel, s (default 20)",
    )
    demo.add_argument(
        "--law",
        choices=("alaw", "ulaw", "linear"),
        default=None,
        help="line coding (default alaw)",
    )
    demo.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    demo.add_argument(
        "--show",
        type=int,
        default=None,
        help="channels whose digits are listed (default 4)",
    )
    from ccboard.cli.board import add_board_commands

    add_board_commands(sub)
    from ccboard.cli.check import add_check_command

    add_check_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        dtmf_opts = (args.channels, args.seconds, args.law, args.show)
        mode = args.mode or ("dtmf" if any(o is not None for o in dtmf_opts) else "callcentre")
        if mode == "callcentre":
            from ccboard.cli.callcentre import run_callcentre

            return run_callcentre(
                callers=args.callers,
                lines=args.lines,
                circuits=args.circuits,
                agents=args.agents,
                seed=args.seed,
                realtime=not args.virtual,
                db=args.db,
                record_dir=args.record,
                moh_file=args.moh,
                live=False if args.no_live else None,
            )
        from ccboard.cli.demo import run_demo

        return run_demo(
            channels=960 if args.channels is None else args.channels,
            seconds=20.0 if args.seconds is None else args.seconds,
            law="alaw" if args.law is None else args.law,
            seed=args.seed,
            show=4 if args.show is None else args.show,
        )
    if args.command == "check":
        from ccboard.cli.check import run_check

        return run_check(args)
    from ccboard.cli.board import BOARD_COMMANDS, run_board_command

    if args.command in BOARD_COMMANDS:
        return run_board_command(args)
    raise AssertionError(f"unhandled command {args.command!r}")  # argparse refuses unknown ones


if __name__ == "__main__":
    sys.exit(main())
