"""Demo prompts synthesised with espeak-ng (Debian's package) at first use, cached and reused.

Each prompt is one espeak-ng run (voice per language, 22.05 kHz PCM16) converted to 8 kHz with
the polyphase resampler, trimmed of leading/trailing silence and normalised to NORM_DBM0 RMS,
then stored as an 8 kHz PCM16 WAV named after a hash of (voice, speed, text), so a changed
text makes a new file and an unchanged one is never synthesised twice. The cache folder is
$CCBOARD_PROMPT_CACHE, else ~/.cache/ccboard/prompts.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ccboard.media import MediaError
from ccboard.media.prompts import Prompt, PromptSet, read_wav, trim_silence, write_wav
from ccboard.media.say import FRAGMENTS

VOICES = {"en": "en-us", "cmn": "cmn"}
SPEED_WPM = {"en": 190, "cmn": 190}
NORM_DBM0 = -16.0  # prompt RMS level
SINE_0DBM0_RMS = 22767.0 / np.sqrt(2.0)
CACHE_VERSION = "1"

# Prompts every IVR needs (the runner's apology, menus' invalid choice and no input).
BASE_PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "sorry": "We are sorry, we cannot complete your call. Goodbye.",
        "invalid": "That is not a valid choice.",
        "no_input": "We did not receive your choice.",
        "goodbye": "Thank you for calling. Goodbye.",
        "hold": "Please hold while we connect you.",
        "beep": "beep",
    },
    "cmn": {
        "sorry": "很抱歉，我们无法完成您的呼叫。再见。",
        "invalid": "您的选择无效。",
        "no_input": "我们没有收到您的选择。",
        "goodbye": "感谢您的来电，再见。",
        "hold": "请稍候，正在为您转接。",
        "beep": "嘀",
    },
}


def cache_dir() -> Path:
    """$CCBOARD_PROMPT_CACHE, else ~/.cache/ccboard/prompts (created)."""
    env = os.environ.get("CCBOARD_PROMPT_CACHE")
    d = Path(env) if env else Path.home() / ".cache" / "ccboard" / "prompts"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _key(voice: str, speed: int, text: str) -> str:
    h = hashlib.sha256(f"{CACHE_VERSION}|{voice}|{speed}|{text}".encode()).hexdigest()
    return h[:20]


def synthesise(text: str, lang: str) -> np.ndarray:
    """One espeak-ng run: text in the language's voice, as 8 kHz int16, trimmed and normalised."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise MediaError("espeak-ng is not installed (apt-get install espeak-ng) and no cached prompts exist")
    voice = VOICES.get(lang)
    if voice is None:
        raise MediaError(f"language {lang!r}: no espeak-ng voice (known: {', '.join(VOICES)})")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "p.wav"
        r = subprocess.run(
            [exe, "-v", voice, "-s", str(SPEED_WPM[lang]), "-w", str(out), "--", text],
            capture_output=True,
            timeout=60,
            check=False,
        )
        if r.returncode != 0 or not out.exists():
            raise MediaError(
                f"espeak-ng -v {voice} failed on {text!r}: {r.stderr.decode(errors='replace').strip()}"
            )
        x = read_wav(out)
    x = trim_silence(x)
    rms = float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if x.size else 0.0
    if rms > 0:
        g = SINE_0DBM0_RMS * 10.0 ** (NORM_DBM0 / 20.0) / rms
        x = np.clip(np.rint(x * g), -32768, 32767).astype(np.int16)
    return x


def build_prompt_set(
    lang: str,
    phrases: Mapping[str, str] | None = None,
    *,
    fragments: bool = True,
    folder: Path | None = None,
    workers: int = 8,
) -> PromptSet:
    """A PromptSet for `lang`: BASE_PHRASES, the say-fragments (say.FRAGMENTS) and `phrases`
    (name -> text), synthesised where not cached yet (in parallel espeak-ng processes)."""
    if lang not in VOICES:
        raise MediaError(f"language {lang!r}: no espeak-ng voice (known: {', '.join(VOICES)})")
    table: dict[str, str] = dict(BASE_PHRASES.get(lang, {}))
    if fragments:
        table.update(FRAGMENTS[lang])
    table.update(phrases or {})
    d = folder or cache_dir()
    d.mkdir(parents=True, exist_ok=True)
    voice, speed = VOICES[lang], SPEED_WPM[lang]
    paths = {name: d / f"{lang}-{_key(voice, speed, text)}.wav" for name, text in table.items()}
    missing = {p: table[n] for n, p in paths.items() if not p.exists()}

    def make(item: tuple[Path, str]) -> None:
        path, text = item
        x = synthesise(text, lang)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        write_wav(tmp, x)
        os.replace(tmp, path)  # atomic: a concurrent first run never reads half a file

    if missing:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as ex:
            list(ex.map(make, missing.items()))
    ps = PromptSet(lang)
    for name, p in paths.items():
        ps.add(Prompt(name, read_wav(p)))
    return ps
