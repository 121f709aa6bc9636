"""The ccfw command, driven through main([...]): every subcommand, exit codes, one-line errors."""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import subprocess
import sys
import types
import zlib
from pathlib import Path

import pytest

from ccfw import cli, container, image
from ccfw.errors import FirmwareError

DATA = Path(__file__).parent / "data"
HEX, S19, BIN = str(DATA / "sample.hex"), str(DATA / "sample.s19"), str(DATA / "sample.bin")
_spec = importlib.util.spec_from_file_location("make_samples", DATA / "make_samples.py")
assert _spec and _spec.loader
samples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(samples)
FIG = samples.figures()
BASE = samples.SEGMENTS[0][0]
BIN_AT = f"{BIN}@0x{BASE:08X}"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2
    assert err.startswith("ccfw: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for n in needles:
        assert n in err, (n, err)


# --------------------------------------------------------------------------- help


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for cmd in ("info", "convert", "merge", "fill", "diff", "pack", "verify", "keygen", "flash"):
        assert cmd in out
        assert run(capsys, cmd, "--help")[0] == 0
    code, out, _ = run(capsys, "-V")
    assert code == 0 and out.strip() == "ccfw 0.1.0"


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "bogus")[0] == 2
    assert run(capsys)[0] == 2
    code, _, err = run(capsys, "fill", HEX, "x.bin", "--byte", "0x100")
    assert code == 2 and "0..255" in err
    code, _, err = run(capsys, "info", HEX, "--base", "lots")
    assert code == 2 and "not a number" in err


# --------------------------------------------------------------------------- info


def test_info_human(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "info", HEX)
    assert code == 0
    assert f"0x{FIG['crc32']:08X}" in out and f"0x{FIG['crc32_filled']:08X}" in out
    assert "4160 bytes in 3 range(s), span 6176 bytes" in out
    assert f"entry       0x{samples.START:08X}" in out
    for a, b in FIG["ranges"]:
        assert f"0x{a:08X}" in out and f"0x{b:08X}" in out


@pytest.mark.parametrize("path", [HEX, S19])
def test_info_json_figures(capsys: pytest.CaptureFixture[str], path: str) -> None:
    code, out, _ = run(capsys, "info", "--json", path)
    assert code == 0
    info = json.loads(out)
    assert info["ranges"] == [list(r) for r in FIG["ranges"]]
    assert info["gaps"] == [list(g) for g in FIG["gaps"]]
    assert (info["size"], info["span"]) == (FIG["size"], FIG["span"])
    assert (info["crc32"], info["crc32_filled"]) == (FIG["crc32"], FIG["crc32_filled"])
    assert info["start_address"] == samples.START


def test_info_binary_at_address(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "info", "--json", BIN_AT)
    info = json.loads(out)
    assert (
        code == 0
        and info["ranges"] == [[BASE, BASE + FIG["span"]]]
        and info["crc32"] == zlib.crc32(FIG["flat"])
    )
    code, out, _ = run(capsys, "info", "--json", "--base", "0x100", BIN)
    assert json.loads(out)["ranges"] == [[0x100, 0x100 + FIG["span"]]]


def test_info_malformed_names_file_line_field(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = Path(HEX).read_text().splitlines()
    text[4] = text[4][:-2] + ("00" if text[4][-2:] != "00" else "01")
    bad = tmp_path / "bad.hex"
    bad.write_text("\n".join(text) + "\n")
    code, _, err = run(capsys, "info", str(bad))
    assert_one_line_error(code, err, f"{bad}:5: checksum: ")


def test_info_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "info", str(tmp_path / "nope.hex"))
    assert_one_line_error(code, err, "nope.hex", "No such file")


# --------------------------------------------------------------------------- convert / merge / fill / diff


def test_convert_chain(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    s19, hex2, raw = tmp_path / "a.s19", tmp_path / "b.hex", tmp_path / "c.dat"
    assert run(capsys, "convert", HEX, str(s19))[0] == 0
    assert run(capsys, "convert", str(s19), str(hex2), "--record-size", "32")[0] == 0
    code, out, _ = run(capsys, "convert", str(hex2), str(raw), "--format", "bin")
    assert code == 0 and "4160 bytes in 3 range(s)" in out
    assert raw.read_bytes() == FIG["flat"]
    assert image.load(s19).segments == image.load(HEX).segments
    assert image.load(hex2).start_address == samples.START
    assert max(len(line) for line in hex2.read_text().split()) == 1 + 2 * (5 + 32)


def test_convert_bin_fill_byte_and_unknown_extension(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "z.bin"
    assert run(capsys, "convert", HEX, str(out), "--fill", "0")[0] == 0
    gap = FIG["gaps"][0]
    assert out.read_bytes()[gap[0] - BASE : gap[1] - BASE] == bytes(gap[1] - gap[0])
    code, _, err = run(capsys, "convert", HEX, str(tmp_path / "z.xyz"))
    assert_one_line_error(code, err, "z.xyz", "format")


def test_merge(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    s = samples.SEGMENTS
    a, b = tmp_path / "a.hex", tmp_path / "b.s19"
    image.dump(image.Image.from_segments([s[0], s[2]], start_address=samples.START), a)
    image.dump(image.Image.from_segments([s[1], (s[0][0] + 8, s[0][1][8:40])]), b)
    out = tmp_path / "m.hex"
    code, text, _ = run(capsys, "merge", str(a), str(b), "-o", str(out))
    assert code == 0 and "merged 2 images" in text
    assert image.load(out).segments == image.load(HEX).segments
    assert run(capsys, "diff", str(out), HEX)[0] == 0


def test_merge_conflict(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    blob = bytearray(FIG["flat"][:64])
    blob[17] ^= 0xFF
    other = tmp_path / "patch.bin"
    other.write_bytes(bytes(blob))
    code, _, err = run(capsys, "merge", HEX, f"{other}@{BASE}", "-o", str(tmp_path / "m.hex"))
    assert_one_line_error(code, err, HEX, "patch.bin", f"0x{BASE + 17:08X}")
    assert not (tmp_path / "m.hex").exists()


def test_fill(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "f.hex"
    assert run(capsys, "fill", HEX, str(out))[0] == 0
    img = image.load(out)
    assert len(img.segments) == 1 and img.segments[0].data == FIG["flat"]
    out2 = tmp_path / "f.bin"
    code, text, _ = run(capsys, "fill", HEX, str(out2), "--byte", "0xA5", "--end", hex(BASE + 0x2000))
    assert code == 0 and "8192 bytes" in text
    data = out2.read_bytes()
    assert len(data) == 0x2000 and data[-1] == 0xA5 and data[:3072] == samples.SEGMENTS[0][1]
    code, _, err = run(capsys, "fill", HEX, str(out2), "--start", hex(BASE + 1))
    assert_one_line_error(code, err, "fill range", f"0x{BASE:08X}")


def test_diff(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "diff", HEX, S19)
    assert code == 0 and "same data" in out
    blob = bytearray(FIG["flat"])
    blob[100] ^= 1
    changed = tmp_path / "c.bin"
    changed.write_bytes(bytes(blob))
    code, out, _ = run(capsys, "diff", "--json", HEX, f"{changed}@{BASE}")
    assert code == 1
    got = json.loads(out)
    assert got["ranges"] == [
        {"start": BASE + 100, "end": BASE + 101, "kind": "changed"},
        *({"start": a, "end": b, "kind": "only_b"} for a, b in FIG["gaps"]),
    ]
    assert got["start_address"] == [samples.START, None]
    code, out, _ = run(capsys, "diff", HEX, f"{changed}@{BASE}")
    assert code == 1 and "differ" in out and "only in B" in out and "entry address" in out


# --------------------------------------------------------------------------- keys, pack, verify


@pytest.fixture
def keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    key = tmp_path / "sign.pem"
    code, out, _ = run(capsys, "keygen", str(key))
    assert code == 0 and "key id" in out
    return str(key), str(key) + ".pub"


def test_keygen_files_and_overwrite(capsys: pytest.CaptureFixture[str], keys: tuple[str, str]) -> None:
    priv, pub = keys
    assert stat.S_IMODE(os.stat(priv).st_mode) == 0o600
    assert container.load_public_key(pub) is not None
    before = Path(priv).read_bytes()
    code, _, err = run(capsys, "keygen", priv)
    assert_one_line_error(code, err, "exists", "--force")
    assert Path(priv).read_bytes() == before
    assert run(capsys, "keygen", priv, "--force")[0] == 0 and Path(priv).read_bytes() != before


def pack(capsys: pytest.CaptureFixture[str], out: Path, *extra: str, src: str = HEX) -> tuple[int, str, str]:
    args = ["pack", "--board", "CCB-4FXS", "--hw-min", "2", "--hw-max", "4", "--version", "1.2.3", *extra]
    return run(capsys, *args, src, str(out))


def test_pack_and_verify_signed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, keys: tuple[str, str]
) -> None:
    priv, pub = keys
    fw = tmp_path / "fw.ccfw"
    code, out, _ = pack(capsys, fw, "--key", priv, "--build-time", "1700000000")
    assert code == 0 and "signed" in out
    c = container.load(str(fw))
    assert c.payload == FIG["flat"] and c.header.load_address == BASE and c.header.build_time == 1700000000
    code, out, _ = run(capsys, "verify", str(fw), "--pubkey", pub, "--board", "CCB-4FXS", "--hw", "4")
    assert code == 0 and "OK" in out and "signature valid" in out and "fits CCB-4FXS rev 4" in out
    code, out, _ = run(capsys, "verify", str(fw))
    assert code == 0 and "signature not checked" in out
    code, out, _ = run(capsys, "info", "--json", str(fw))
    info = json.loads(out)
    assert code == 0 and info["board_model"] == "CCB-4FXS" and info["signed"] and info["version"] == "1.2.3"
    code, out, _ = run(capsys, "info", str(fw))
    assert code == 0 and "CCB-4FXS" in out and "payload_crc32" in out


def test_verify_failures_name_the_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, keys: tuple[str, str]
) -> None:
    priv, pub = keys
    fw, plain = tmp_path / "fw.ccfw", tmp_path / "plain.ccfw"
    assert pack(capsys, fw, "--key", priv)[0] == 0
    assert pack(capsys, plain)[0] == 0
    other = tmp_path / "other.pem"
    assert run(capsys, "keygen", str(other))[0] == 0
    cases = [
        (["verify", str(fw), "--board", "CCB-8FXO", "--hw", "3"], "board_model"),
        (["verify", str(fw), "--board", "CCB-4FXS", "--hw", "1"], "hw_rev_min"),
        (["verify", str(fw), "--board", "CCB-4FXS", "--hw", "5"], "hw_rev_max"),
        (["verify", str(fw), "--pubkey", str(other) + ".pub"], "key_id"),
        (["verify", str(plain), "--pubkey", pub], "signature"),
        (["verify", str(plain), "--require-signature"], "signature"),
        (["verify", str(fw), "--pubkey", str(tmp_path / "missing.pub")], "missing.pub"),
    ]
    for argv, needle in cases:
        code, _, err = run(capsys, *argv)
        assert_one_line_error(code, err, needle)
    data = bytearray(fw.read_bytes())
    data[-1] ^= 0x01
    bad = tmp_path / "bad.ccfw"
    bad.write_bytes(bytes(data))
    code, _, err = run(capsys, "verify", str(bad), "--pubkey", pub)
    assert_one_line_error(code, err, "bad.ccfw: payload_crc32: ")
    code, _, err = run(capsys, "verify", str(fw), "--board", "CCB-4FXS")
    assert_one_line_error(code, err, "--board and --hw")
    code, _, err = run(capsys, "verify", HEX)
    assert_one_line_error(code, err, "magic")


def test_pack_options(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fw = tmp_path / "fw.ccfw"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1600000000")
    assert pack(capsys, fw, "--load-address", hex(BASE - 0x100), "--fill", "0")[0] == 0
    c = container.load(str(fw))
    assert c.header.build_time == 1600000000 and c.header.load_address == BASE - 0x100
    assert c.payload == bytes(0x100) + image.fill(image.load(HEX), 0).segments[0].data
    assert not c.header.signed
    code, _, err = pack(capsys, fw, "--load-address", hex(BASE + 4))
    assert_one_line_error(code, err, "fill range")
    code, _, err = run(
        capsys,
        "pack",
        "--board",
        "bad board",
        "--hw-min",
        "1",
        "--hw-max",
        "2",
        "--version",
        "1.0.0",
        HEX,
        str(fw),
    )
    assert_one_line_error(code, err, "board_model")
    code, _, err = run(
        capsys, "pack", "--board", "B", "--hw-min", "3", "--hw-max", "2", "--version", "1.0.0", HEX, str(fw)
    )
    assert_one_line_error(code, err, "hw_rev_max")
    code, _, err = run(
        capsys, "pack", "--board", "B", "--hw-min", "1", "--hw-max", "2", "--version", "1.0", HEX, str(fw)
    )
    assert code == 2 and "major.minor.patch" in err
    code, _, err = pack(capsys, fw, "--key", str(tmp_path / "nokey.pem"))
    assert_one_line_error(code, err, "nokey.pem")
    code, _, err = pack(capsys, fw, src=BIN)  # a raw binary packs from address 0
    assert code == 0 and container.load(str(fw)).header.load_address == 0


# --------------------------------------------------------------------------- flash hook


def fake_flash(monkeypatch: pytest.MonkeyPatch, result: int | Exception = 0) -> list[object]:
    seen: list[object] = []

    def run_(args: object) -> int:
        seen.append(args)
        if isinstance(result, Exception):
            raise result
        return result

    monkeypatch.setitem(sys.modules, "ccfw.flash", types.SimpleNamespace(run=run_))
    return seen


def test_flash_defaults_reach_ccfw_flash_run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = fake_flash(monkeypatch, 0)
    assert run(capsys, "flash", "fw.ccfw", "--port", "/dev/ttyUSB0")[0] == 0
    (args,) = seen
    got = {
        k: getattr(args, k)
        for k in ("image", "port", "baud", "protocol", "board", "hw", "retries", "no_verify")
    }
    assert got == {
        "image": "fw.ccfw",
        "port": "/dev/ttyUSB0",
        "baud": 115200,
        "protocol": "xmodem",
        "board": None,
        "hw": None,
        "retries": 3,
        "no_verify": False,
    }


def test_flash_options(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    seen = fake_flash(monkeypatch, 5)
    argv = ["flash", "fw.ccfw", "--port", "p", "--baud", "57600", "--protocol", "stm32"]
    argv += ["--board", "CCB-4FXS", "--hw", "3", "--retries", "7", "--no-verify"]
    assert run(capsys, *argv)[0] == 5
    a = seen[0]
    assert (a.baud, a.protocol, a.board, a.hw, a.retries, a.no_verify) == (
        57600,
        "stm32",
        "CCB-4FXS",
        3,
        7,
        True,
    )  # type: ignore[attr-defined]
    assert run(capsys, "flash", "fw.ccfw", "--port", "p", "--protocol", "zmodem")[0] == 2
    assert run(capsys, "flash", "fw.ccfw")[0] == 2  # --port is required
    code, _, err = run(capsys, "flash", "fw.ccfw", "--port", "p", "--board", "X")
    assert_one_line_error(code, err, "--board and --hw")
    assert len(seen) == 1


def test_flash_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_flash(monkeypatch, FirmwareError("port /dev/ttyUSB9, step sync: no answer after sending 0x7F"))
    code, _, err = run(capsys, "flash", "fw.ccfw", "--port", "/dev/ttyUSB9", "--protocol", "stm32")
    assert_one_line_error(code, err, "/dev/ttyUSB9", "0x7F")
    monkeypatch.setitem(sys.modules, "ccfw.flash", None)  # as if the module were not installed
    code, _, err = run(capsys, "flash", "fw.ccfw", "--port", "p")
    assert_one_line_error(code, err, "ccfw.flash")


def test_unexpected_errors_are_one_line_too(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(image, "load", boom)
    code, _, err = run(capsys, "info", HEX)
    assert code == 2 and err.count("\n") == 1 and "internal error: RuntimeError: kaboom" in err
    monkeypatch.setenv("CCFW_TRACEBACK", "1")
    with pytest.raises(RuntimeError):
        cli.main(["info", HEX])


def test_module_entry_point_runs() -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(cli.__file__).parents[1])}
    done = subprocess.run(
        [sys.executable, "-m", "ccfw.cli", "info", "--json", HEX],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0 and json.loads(done.stdout)["crc32"] == FIG["crc32"]
    done = subprocess.run(
        [sys.executable, "-m", "ccfw.cli", "info", str(DATA / "make_samples.py") + ".hex"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
