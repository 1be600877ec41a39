"""Audio for the sandbox's callees: what a person and an answering machine say, as pcap files
of RTP that sipp replays into a call (`play_pcap_audio`).

Speech comes from Debian's espeak-ng, resampled to 8 kHz G.711 mu-law by sox; silence and the
machine's beep are made here. Each recording starts and ends in real silence packets
(mu-law 0xFF), not in a gap in the stream: Asterisk's AMD() and WaitForSilence() measure
the silence they *hear*, and a stream that stops tells them nothing. The files are
generated at `sandbox up` into the state folder, never kept in the repository.

The pcap writer is plain Python: a classic pcap (Ethernet link type), one IPv4/UDP/RTP
packet per 20 ms of audio (160 samples, payload type 0 PCMU), timestamps 20 ms apart. sipp
takes only the UDP payload and the timing from it and sends them to the call's remote
media address.
"""

from __future__ import annotations

import math
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ccgateway.sandbox.errors import SandboxError

RATE = 8000
FRAME = 160  # samples (and mu-law bytes) per RTP packet: 20 ms
SILENCE_BYTE = 0xFF  # mu-law of 0
PCMU = 0


@dataclass(frozen=True)
class Speech:
    text: str


@dataclass(frozen=True)
class Silence:
    ms: int


@dataclass(frozen=True)
class Tone:
    ms: int
    hz: float = 1000.0
    level: float = 0.5  # of full scale


Part = Speech | Silence | Tone

# What each callee kind says once it answers (phones.py, callee.xml). The person says a
# short "Hello?" and then listens; the machine a greeting of several seconds, a beep, then
# records (silence): AMD's "greeting" limit is 1.5 s in the sandbox's amd.conf.
RECORDINGS: dict[str, tuple[Part, ...]] = {
    "person": (Silence(300), Speech("Hello?"), Silence(12_000)),
    "machine": (
        Silence(200),
        Speech(
            "Hello, you have reached the voicemail of Alex Miller. I cannot take your "
            "call right now. Please leave your name and number after the tone."
        ),
        Silence(300),
        Tone(600),
        Silence(20_000),
    ),
    "silent": (Silence(12_000),),
}


def recording_path(audio_dir: Path, name: str) -> Path:
    return audio_dir / f"{name}.pcap"


def tools_missing() -> list[str]:
    return [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]


def write_recordings(audio_dir: Path) -> dict[str, Path]:
    """Write every recording of RECORDINGS as `<name>.pcap` in `audio_dir`; name -> path.
    Raises SandboxError if espeak-ng or sox is missing."""
    missing = tools_missing()
    if missing:
        raise SandboxError(
            f"{' and '.join(missing)} missing (the callees' speech): apt-get install espeak-ng sox"
        )
    audio_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, parts in RECORDINGS.items():
        path = recording_path(audio_dir, name)
        path.write_bytes(pcap(rtp_packets(render(parts))))
        paths[name] = path
    return paths


def render(parts: Iterable[Part]) -> bytes:
    """The parts one after another as 8 kHz mu-law samples."""
    out = bytearray()
    for part in parts:
        if isinstance(part, Silence):
            out += bytes([SILENCE_BYTE]) * (part.ms * RATE // 1000)
        elif isinstance(part, Tone):
            amplitude = part.level * 32767
            out += bytes(
                ulaw(round(amplitude * math.sin(2 * math.pi * part.hz * i / RATE)))
                for i in range(part.ms * RATE // 1000)
            )
        else:
            out += speak(part.text)
    return bytes(out)


def speak(text: str) -> bytes:
    """`text` spoken by espeak-ng (English), as 8 kHz mono mu-law samples."""
    with tempfile.TemporaryDirectory(prefix="ccgw-speech-") as tmp:
        wav, raw = Path(tmp) / "speech.wav", Path(tmp) / "speech.ul"
        _run(["espeak-ng", "-v", "en-gb", "-s", "165", "-w", str(wav), text])
        _run(["sox", str(wav), "-r", str(RATE), "-c", "1", "-e", "u-law", "-t", "raw", str(raw)])
        return raw.read_bytes()


def ulaw(sample: int) -> int:
    """G.711 mu-law code of one signed 16-bit linear sample."""
    bias, clip = 0x84, 32635
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), clip) + bias
    exponent = max(0, magnitude.bit_length() - 8)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def rtp_packets(samples: bytes, ssrc: int = 0x43434757) -> list[bytes]:
    """RTP packets of FRAME samples each (the last padded with silence), PCMU."""
    if len(samples) % FRAME:
        samples += bytes([SILENCE_BYTE]) * (FRAME - len(samples) % FRAME)
    packets = []
    for seq, start in enumerate(range(0, len(samples), FRAME)):
        marker = 0x80 if seq == 0 else 0
        header = struct.pack("!BBHII", 0x80, marker | PCMU, seq & 0xFFFF, start, ssrc)
        packets.append(header + samples[start : start + FRAME])
    return packets


def pcap(payloads: list[bytes], src_port: int = 16000, dst_port: int = 6000) -> bytes:
    """A classic little-endian pcap of `payloads` as UDP datagrams 127.0.0.1 -> 127.0.0.1,
    one every 20 ms from t = 0."""
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for i, payload in enumerate(payloads):
        frame = _ethernet(_ipv4(_udp(payload, src_port, dst_port)))
        micros = i * 20_000
        out += struct.pack("<IIII", micros // 1_000_000, micros % 1_000_000, len(frame), len(frame))
        out += frame
    return bytes(out)


def _udp(payload: bytes, src_port: int, dst_port: int) -> bytes:
    return struct.pack("!HHHH", src_port, dst_port, 8 + len(payload), 0) + payload  # no checksum


def _ipv4(segment: bytes) -> bytes:
    loopback = bytes([127, 0, 0, 1])
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(segment), 0, 0, 64, 17, 0,
                         loopback, loopback)  # fmt: skip
    checksum = _checksum(header)
    return header[:10] + struct.pack("!H", checksum) + header[12:] + segment


def _ethernet(packet: bytes) -> bytes:
    return bytes(6) + bytes(6) + struct.pack("!H", 0x0800) + packet


def _checksum(data: bytes) -> int:
    total = int(sum(struct.unpack(f"!{len(data) // 2}H", data)))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        raise SandboxError(f"{command[0]} failed: {result.stderr.strip()[-300:]}")
