"""The ``ccfw`` command: firmware images, board containers, keys and flashing.

Every failure ends as one line on stderr, ``ccfw: error: <file>:<line>: <field>: <detail>``,
and exit status 2 (argparse usage errors too); ``diff`` exits 1 when the images differ.
Set CCFW_TRACEBACK=1 to see the traceback of an unexpected error.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from ccfw import __version__, container, image
from ccfw.errors import FirmwareError

EXIT_OK = 0
EXIT_DIFFERENT = 1
EXIT_ERROR = 2


class UsageError(FirmwareError):
    """A command-line argument has a bad value."""


# --------------------------------------------------------------------------- argument types


def _int(text: str) -> int:
    """Decimal or 0x-prefixed hex, underscores allowed."""
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (decimal or 0x hex)") from None


def _byte(text: str) -> int:
    value = _int(text)
    if not 0 <= value <= 0xFF:
        raise argparse.ArgumentTypeError(f"{text!r} is not a byte value 0..255")
    return value


def _u16(text: str) -> int:
    value = _int(text)
    if not 0 <= value <= 0xFFFF:
        raise argparse.ArgumentTypeError(f"{text!r} is not in 0..65535")
    return value


def _version(text: str) -> tuple[int, int, int]:
    try:
        return container.parse_version(text)
    except container.ContainerError:
        raise argparse.ArgumentTypeError(f"{text!r} is not major.minor.patch (each 0..65535)") from None


FORMAT_CHOICES = ("ihex", "srec", "bin")


def _split_spec(spec: str, base: int | None) -> tuple[str, int | None]:
    """FILE or FILE@ADDRESS (the address places a raw binary; it overrides --base)."""
    if "@" in spec and not os.path.exists(spec):
        head, _, tail = spec.rpartition("@")
        try:
            return head, int(tail, 0)
        except ValueError:
            pass
    return spec, base


def _load_image(spec: str, fmt: str | None, base: int | None) -> image.Image:
    """Load FILE or FILE@ADDRESS."""
    path, at = _split_spec(spec, base)
    return image.load(path, fmt, base=at or 0)


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree of every subcommand."""
    p = argparse.ArgumentParser(
        prog="ccfw",
        description="Firmware images (Intel HEX, S-record, binary), board containers and flashing.",
        epilog="Addresses accept decimal or 0x hex. A raw binary input may be given as FILE@ADDRESS.",
    )
    p.add_argument("-V", "--version", action="version", version=f"ccfw {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def image_input(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--in-format", choices=FORMAT_CHOICES, help="input format (default: guess)")
        sp.add_argument("--base", type=_int, help="load address of a raw binary input (default 0)")

    sp = sub.add_parser("info", help="address ranges, gaps, sizes, CRC-32, entry point (or container header)")
    sp.add_argument("file", metavar="FILE")
    image_input(sp)
    sp.add_argument(
        "--fill", type=_byte, default=image.ERASED, help="gap byte for the filled CRC (default 0xFF)"
    )
    sp.add_argument("--json", action="store_true", help="machine-readable output")

    sp = sub.add_parser("convert", help="convert between ihex, srec and bin")
    sp.add_argument("input", metavar="IN")
    sp.add_argument("output", metavar="OUT")
    sp.add_argument("--format", choices=FORMAT_CHOICES, help="output format (default: from OUT's extension)")
    image_input(sp)
    sp.add_argument("--fill", type=_byte, default=image.ERASED, help="gap byte for bin output (default 0xFF)")
    sp.add_argument("--record-size", type=_int, default=16, help="data bytes per record (default 16)")

    sp = sub.add_parser("merge", help="merge images; overlapping addresses must agree")
    sp.add_argument("inputs", metavar="IN", nargs="+")
    sp.add_argument("-o", "--output", metavar="OUT", required=True)
    sp.add_argument("--format", choices=FORMAT_CHOICES, help="output format (default: from OUT's extension)")
    image_input(sp)
    sp.add_argument("--fill", type=_byte, default=image.ERASED, help="gap byte for bin output (default 0xFF)")

    sp = sub.add_parser("fill", help="fill gaps (and margins up to --start/--end) with a byte")
    sp.add_argument("input", metavar="IN")
    sp.add_argument("output", metavar="OUT")
    sp.add_argument("--byte", type=_byte, default=image.ERASED, help="fill byte (default 0xFF)")
    sp.add_argument("--start", type=_int, help="first address of the result (default: lowest data address)")
    sp.add_argument("--end", type=_int, help="one past the last address (default: end of the data)")
    sp.add_argument("--format", choices=FORMAT_CHOICES, help="output format (default: from OUT's extension)")
    image_input(sp)

    sp = sub.add_parser("diff", help="address ranges where two images differ (exit 1 if they do)")
    sp.add_argument("a", metavar="A")
    sp.add_argument("b", metavar="B")
    image_input(sp)
    sp.add_argument("--json", action="store_true", help="machine-readable output")

    sp = sub.add_parser("pack", help="wrap an image in a board container (optionally signed)")
    sp.add_argument("input", metavar="IN")
    sp.add_argument("output", metavar="OUT")
    sp.add_argument("--board", required=True, help="board model id, 1..16 of [A-Za-z0-9._-]")
    sp.add_argument("--hw-min", type=_u16, required=True, help="lowest hardware revision")
    sp.add_argument("--hw-max", type=_u16, required=True, help="highest hardware revision")
    sp.add_argument("--version", type=_version, required=True, help="firmware version major.minor.patch")
    sp.add_argument("--key", metavar="ed25519.pem", help="sign with this Ed25519 private key")
    sp.add_argument("--load-address", type=_int, help="payload address (default: lowest data address)")
    sp.add_argument(
        "--build-time", type=_int, help="UTC epoch seconds (default: $SOURCE_DATE_EPOCH, else now)"
    )
    sp.add_argument("--fill", type=_byte, default=image.ERASED, help="gap byte (default 0xFF)")
    image_input(sp)

    sp = sub.add_parser("verify", help="check a container's CRCs, signature and board")
    sp.add_argument("file", metavar="FILE")
    sp.add_argument("--pubkey", metavar="PEM", help="Ed25519 public key; the image must be signed by it")
    sp.add_argument("--require-signature", action="store_true", help="refuse unsigned images")
    sp.add_argument("--board", help="refuse unless the image is for this board model")
    sp.add_argument("--hw", type=_u16, help="refuse unless the image runs on this hardware revision")

    sp = sub.add_parser("keygen", help="make an Ed25519 signing key pair (PEM)")
    sp.add_argument("key", metavar="KEY", help="private key file to write (mode 0600)")
    sp.add_argument("--pubkey", metavar="PUB", help="public key file (default: KEY with .pub appended)")
    sp.add_argument("--force", action="store_true", help="overwrite existing files")

    # --- hook: flashing lives in ccfw.flash (serial bootloaders), imported only when used
    sp = sub.add_parser("flash", help="flash a board over its serial bootloader")
    sp.add_argument("image", metavar="IMAGE")
    sp.add_argument("--port", metavar="PORT", required=True)
    sp.add_argument("--baud", metavar="N", type=int, default=115200)
    sp.add_argument("--protocol", choices=("xmodem", "stm32"), default="xmodem")
    sp.add_argument("--board", metavar="MODEL")
    sp.add_argument("--hw", metavar="REV", type=_u16)
    sp.add_argument("--retries", metavar="N", type=int, default=3)
    sp.add_argument("--no-verify", action="store_true")
    return p


# --------------------------------------------------------------------------- commands


def _print_json(obj: Any) -> None:
    # plain print: rich would re-flow long strings
    print(json.dumps(obj, indent=2))


def _hex(value: int | None) -> str:
    return "-" if value is None else f"0x{value:08X}"


def _cmd_info(args: argparse.Namespace, out: Console) -> int:
    path, _ = _split_spec(args.file, args.base)
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as e:
        raise image.ImageFileError(e.strerror or str(e), file=path, field="file") from None
    if container.is_container(head) and args.in_format is None:
        return _container_info(container.load(args.file), args, out)
    img = _load_image(args.file, args.in_format, args.base)
    info = img.info(args.fill)
    if args.json:
        _print_json(
            {
                "file": info.name,
                "format": info.format,
                "ranges": [list(r) for r in info.ranges],
                "gaps": [list(g) for g in info.gaps],
                "size": info.size,
                "span": info.span,
                "crc32": info.crc32,
                "crc32_filled": info.crc32_filled,
                "fill": info.fill,
                "start_address": info.start_address,
                "header": info.header.decode("latin-1") if info.header is not None else None,
            }
        )
        return EXIT_OK
    table = Table(title=f"{info.name} ({info.format})", show_header=True)
    table.add_column("range")
    table.add_column("start", justify="right")
    table.add_column("end (excl.)", justify="right")
    table.add_column("bytes", justify="right")
    rows = [("data", a, b) for a, b in info.ranges] + [("gap", a, b) for a, b in info.gaps]
    for kind, a, b in sorted(rows, key=lambda r: r[1]):
        table.add_row(kind, _hex(a), _hex(b), str(b - a), style="dim" if kind == "gap" else None)
    out.print(table)
    out.print(f"size        {info.size} bytes in {len(info.ranges)} range(s), span {info.span} bytes")
    out.print(f"crc32       0x{info.crc32:08X} (data bytes only)")
    if info.crc32_filled is not None:
        out.print(f"crc32 span  0x{info.crc32_filled:08X} (gaps = 0x{info.fill:02X})")
    out.print(f"entry       {_hex(info.start_address)}")
    if info.header:
        out.print(f"header      {info.header.decode('latin-1')!r}")
    return EXIT_OK


def _container_fields(c: container.Container) -> dict[str, Any]:
    h = c.header
    return {
        "file": c.source,
        "board_model": h.board_model,
        "hw_rev_min": h.hw_rev_min,
        "hw_rev_max": h.hw_rev_max,
        "version": h.version_string,
        "build_time": h.build_time,
        "build_time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(min(h.build_time, 253402300799))),
        "load_address": h.load_address,
        "payload_length": h.payload_length,
        "payload_crc32": h.payload_crc32,
        "flags": h.flags,
        "signed": h.signed,
        "key_id": h.key_id.hex() if h.signed else None,
        "header_crc32": h.header_crc32,
    }


def _container_info(c: container.Container, args: argparse.Namespace, out: Console) -> int:
    fields = _container_fields(c)
    if args.json:
        _print_json(fields)
        return EXIT_OK
    table = Table(title=f"{c.source} (ccfw container v{c.header.header_version})", show_header=False)
    table.add_column("field")
    table.add_column("value")
    for k, v in fields.items():
        if k == "file":
            continue
        shown = _hex(v) if k in ("load_address", "payload_crc32", "header_crc32") else str(v)
        table.add_row(k, shown)
    out.print(table)
    out.print(
        "header and payload CRCs ok"
        + (", signature not checked (use verify --pubkey)" if c.header.signed else "")
    )
    return EXIT_OK


def _cmd_convert(args: argparse.Namespace, out: Console) -> int:
    img = _load_image(args.input, args.in_format, args.base)
    image.dump(img, args.output, args.format, fill=args.fill, record_size=args.record_size)
    out.print(f"{args.input} -> {args.output}: {img.size} bytes in {len(img.segments)} range(s)")
    return EXIT_OK


def _cmd_merge(args: argparse.Namespace, out: Console) -> int:
    imgs = [_load_image(spec, args.in_format, args.base) for spec in args.inputs]
    merged = image.merge(imgs, name=args.output)
    image.dump(merged, args.output, args.format, fill=args.fill)
    out.print(
        f"merged {len(imgs)} images -> {args.output}: {merged.size} bytes in {len(merged.segments)} range(s)"
    )
    return EXIT_OK


def _cmd_fill(args: argparse.Namespace, out: Console) -> int:
    img = _load_image(args.input, args.in_format, args.base)
    filled = image.fill(img, args.byte, args.start, args.end)
    image.dump(filled, args.output, args.format)
    seg = filled.segments[0]
    out.print(
        f"{args.output}: {_hex(seg.address)}..{_hex(seg.end)} ({len(seg.data)} bytes, gaps 0x{args.byte:02X})"
    )
    return EXIT_OK


def _cmd_diff(args: argparse.Namespace, out: Console) -> int:
    a = _load_image(args.a, args.in_format, args.base)
    b = _load_image(args.b, args.in_format, args.base)
    ranges = image.diff(a, b)
    entry_differs = a.start_address != b.start_address
    if args.json:
        _print_json(
            {
                "ranges": [{"start": r.start, "end": r.end, "kind": r.kind} for r in ranges],
                "start_address": [a.start_address, b.start_address] if entry_differs else None,
            }
        )
    elif not ranges and not entry_differs:
        out.print(f"{args.a} and {args.b} hold the same data")
    else:
        labels = {"changed": "differ", "only_a": "only in A", "only_b": "only in B"}
        out.print(f"A = {args.a}\nB = {args.b}")
        table = Table(show_header=True)
        table.add_column("start", justify="right")
        table.add_column("end (excl.)", justify="right")
        table.add_column("bytes", justify="right")
        table.add_column("what")
        for r in ranges:
            table.add_row(_hex(r.start), _hex(r.end), str(r.end - r.start), labels[r.kind])
        out.print(table)
        if entry_differs:
            out.print(f"entry address {_hex(a.start_address)} vs {_hex(b.start_address)}")
    return EXIT_DIFFERENT if ranges or entry_differs else EXIT_OK


def _cmd_pack(args: argparse.Namespace, out: Console) -> int:
    img = _load_image(args.input, args.in_format, args.base)
    lo = img.min_address if args.load_address is None else args.load_address
    payload = image.fill(img, args.fill, lo, max(img.max_address, lo)).segments[0].data
    key = container.load_private_key(args.key) if args.key else None
    build_time = args.build_time
    if build_time is None and os.environ.get("SOURCE_DATE_EPOCH"):
        try:
            build_time = int(os.environ["SOURCE_DATE_EPOCH"])
        except ValueError:
            raise UsageError(
                f"SOURCE_DATE_EPOCH={os.environ['SOURCE_DATE_EPOCH']!r} is not an integer"
            ) from None
    data = container.pack(
        payload,
        board_model=args.board,
        hw_rev_min=args.hw_min,
        hw_rev_max=args.hw_max,
        version=args.version,
        load_address=lo,
        build_time=build_time,
        private_key=key,
    )
    _write(args.output, data)
    c = container.parse(data, source=args.output)
    out.print(
        f"{args.output}: {c.header.board_model} hw {c.header.hw_rev_min}..{c.header.hw_rev_max} "
        f"v{c.header.version_string}, {len(payload)} bytes at {_hex(lo)}, "
        + (f"signed (key {c.header.key_id.hex()})" if key else "unsigned")
    )
    return EXIT_OK


def _cmd_verify(args: argparse.Namespace, out: Console) -> int:
    if (args.board is None) != (args.hw is None):
        raise UsageError("--board and --hw go together")
    c = container.load(args.file)
    pub = container.load_public_key(args.pubkey) if args.pubkey else None
    checked = c.verify(pub, require_signature=args.require_signature)
    if args.board is not None:
        c.check_compatible(args.board, args.hw)
    h = c.header
    sig = "signature valid" if checked else "signed, signature not checked" if h.signed else "unsigned"
    out.print(
        f"{args.file}: OK: {h.board_model} hw {h.hw_rev_min}..{h.hw_rev_max} v{h.version_string}, "
        f"{h.payload_length} bytes crc32 0x{h.payload_crc32:08X}, {sig}"
        + (f" (key {h.key_id.hex()})" if h.signed else "")
        + (f", fits {args.board} rev {args.hw}" if args.board is not None else "")
    )
    return EXIT_OK


def _cmd_keygen(args: argparse.Namespace, out: Console) -> int:
    key = container.generate_key()
    pub_path = args.pubkey or args.key + ".pub"
    _write(args.key, container.private_key_pem(key), private=True, force=args.force)
    _write(pub_path, container.public_key_pem(key.public_key()), force=args.force)
    kid = container.key_id(key.public_key()).hex()
    out.print(f"{args.key} (private, mode 0600), {pub_path} (public): key id {kid}")
    return EXIT_OK


def _cmd_flash(args: argparse.Namespace, out: Console) -> int:
    # --- hook: ccfw.flash (written separately) does the work; lazy so the image commands never
    # need the serial stack
    if (args.board is None) != (args.hw is None):
        raise UsageError("--board and --hw go together")
    try:
        flash = importlib.import_module("ccfw.flash")
    except ModuleNotFoundError as e:
        if e.name != "ccfw.flash":
            raise
        raise UsageError("flashing is not available in this install (ccfw.flash is missing)") from None
    return int(flash.run(args))


def _write(path: str, data: bytes, *, private: bool = False, force: bool = True) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | (0 if force else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600 if private else 0o666)
        with os.fdopen(fd, "wb") as f:
            if private:
                os.fchmod(f.fileno(), 0o600)
            f.write(data)
    except FileExistsError:
        raise UsageError(f"{path}: exists (use --force to overwrite)") from None
    except OSError as e:
        raise image.ImageFileError(e.strerror or str(e), file=path, field="file") from None


COMMANDS = {
    "info": _cmd_info,
    "convert": _cmd_convert,
    "merge": _cmd_merge,
    "fill": _cmd_fill,
    "diff": _cmd_diff,
    "pack": _cmd_pack,
    "verify": _cmd_verify,
    "keygen": _cmd_keygen,
    "flash": _cmd_flash,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ccfw``; returns the exit status (0 ok, 1 diff found differences, 2 error)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, usage errors: argparse already printed
        return e.code if isinstance(e.code, int) else EXIT_ERROR
    out = Console(highlight=False, soft_wrap=True)
    try:
        return COMMANDS[args.command](args, out)
    except FirmwareError as e:
        print(f"ccfw: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        print(f"ccfw: error: {where}{e.strerror or e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("ccfw: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a bug of ours: still one line, unless asked for the traceback
        if os.environ.get("CCFW_TRACEBACK"):
            raise
        print(
            f"ccfw: internal error: {type(e).__name__}: {e} (CCFW_TRACEBACK=1 shows where)", file=sys.stderr
        )
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
