"""Sounds for the sandbox FreeSWITCH: hold music, and the prompts the dialplan plays.

FreeSWITCH's sound packages (en/us/callie) are used when the build has them; otherwise each
prompt the fallback and the sound table name is spoken by espeak-ng and resampled by sox into
the state folder with the same relative path. The hold music is a soft tune made here (plain
Python, no tool needed). Nothing of this is ever kept in the repository.
"""

from __future__ import annotations

import math
import struct
import subprocess
import tempfile
import wave
from pathlib import Path

from ccgateway.sandbox import audio
from ccgateway.sandbox.errors import SandboxError
from ccgateway.sandbox.freeswitch_config import sound_files

RATE = 8000
CALLIE = Path("en/us/callie")
TUNE_HZ = (523.25, 659.25, 783.99, 659.25, 587.33, 698.46, 880.0, 698.46)  # C E G E D F A F


def installed_sounds(binary: Path) -> Path | None:
    """The build's own en/us/callie folder (<prefix>/share/freeswitch/sounds/...), if it has
    the prompts the sandbox plays."""
    prefix = binary.resolve().parent.parent
    callie = prefix / "share/freeswitch/sounds" / CALLIE
    if all(_has(callie, name) for name in sound_files()):
        return callie
    return None


def ensure_sounds(binary: Path, state_dir: Path) -> Path:
    """The sound prefix to use: the build's sounds, else prompts generated into
    `state_dir`/sounds/en/us/callie (made once)."""
    installed = installed_sounds(binary)
    if installed is not None:
        return installed
    target = state_dir / "sounds" / CALLIE
    missing = {name: words for name, words in sound_files().items() if not _has(target, name)}
    if missing and audio.tools_missing():
        raise SandboxError(
            "FreeSWITCH's sounds are absent and "
            f"{' and '.join(audio.tools_missing())} missing to make them: "
            "apt-get install espeak-ng sox"
        )
    for name, words in missing.items():
        write_speech(target / name, words)
    return target


def _has(folder: Path, name: str) -> bool:
    return (folder / name).is_file()


def write_speech(path: Path, words: str) -> None:
    """`words` spoken (espeak-ng), as an 8 kHz mono 16-bit WAV at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ccgw-fs-speech-") as tmp:
        raw = Path(tmp) / "speech.wav"
        _run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(raw), words])
        _run(["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(path)])


def write_moh(moh_dir: Path, seconds: int = 20) -> Path:
    """A soft tune of `seconds` as moh_dir/tune.wav (8 kHz) for local_stream://moh."""
    moh_dir.mkdir(parents=True, exist_ok=True)
    note = RATE * 2 // 5  # 0.4 s per note
    samples = bytearray()
    for i in range(seconds * RATE // note):
        hz = TUNE_HZ[i % len(TUNE_HZ)]
        for n in range(note):
            fade = min(1.0, n / 400, (note - n) / 400)
            samples += struct.pack("<h", round(6000 * fade * math.sin(2 * math.pi * hz * n / RATE)))
    path = moh_dir / "tune.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(samples))
    return moh_dir


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        raise SandboxError(f"{command[0]} failed: {result.stderr.strip()[-300:]}")
