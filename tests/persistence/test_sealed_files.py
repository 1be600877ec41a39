"""Recordings sealed at rest: the format round trips at every size that matters, fed in any
pieces, and refuses whatever is not what was sealed (cut short, a flipped bit, another
recording's file, another key); the recordings folder seals, measures, plays and deletes."""

from __future__ import annotations

import array
import hashlib
import io
import random
import wave
from pathlib import Path

import pytest

from ccgateway.persistence.recording_store import RecordingFiles
from ccgateway.persistence.sealed_files import (
    CHUNK,
    HEADER_SIZE,
    SEALED_CHUNK,
    Opener,
    SealBroken,
    Sealer,
    key_from_text,
    new_key_text,
    open_sealed,
    plain_size,
    seal,
    sealed_size,
)
from ccgateway.ports import UnreadableRecording

KEY = key_from_text(new_key_text())
SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * 1024 * 1024 + 17]


def audio(size: int) -> bytes:
    return random.Random(size).randbytes(size)


@pytest.mark.parametrize("size", SIZES)
def test_a_recording_round_trips_and_its_size_is_known_from_the_sealed_one(size: int) -> None:
    plain = audio(size)
    sealed = seal(KEY, "r1", plain)
    assert len(sealed) == sealed_size(size) and plain_size(len(sealed)) == size
    assert plain[:64] not in sealed or size < 8  # not the audio in the clear
    assert open_sealed(KEY, "r1", sealed) == plain


def test_pieces_of_any_size_give_the_same_bytes() -> None:
    plain = audio(3 * CHUNK + 5)
    sealer = Sealer(KEY, "r1")
    sealed = bytearray(sealer.header())
    pieces = random.Random(1)
    at = 0
    while at < len(plain):
        step = pieces.choice([1, 7, CHUNK - 1, CHUNK, CHUNK + 3])
        sealed += sealer.feed(plain[at : at + step])
        at += step
    sealed += sealer.finish()
    opener, opened, at = Opener(KEY, "r1"), bytearray(), 0
    while at < len(sealed):
        step = pieces.choice([1, 13, SEALED_CHUNK - 1, SEALED_CHUNK, SEALED_CHUNK + 1])
        opened += opener.feed(bytes(sealed[at : at + step]))
        at += step
    assert bytes(opened + opener.finish()) == plain


def test_two_seals_of_the_same_audio_differ() -> None:
    plain = audio(1000)
    assert seal(KEY, "r1", plain) != seal(KEY, "r1", plain)  # a random salt and prefix


@pytest.mark.parametrize("size", [0, 1, CHUNK, CHUNK + 1, 3 * CHUNK])
def test_a_file_cut_short_anywhere_is_refused(size: int) -> None:
    sealed = seal(KEY, "r1", audio(size))
    ends = {0, 1, HEADER_SIZE - 1, HEADER_SIZE, HEADER_SIZE + 15, len(sealed) - 1}
    ends |= {HEADER_SIZE + k * SEALED_CHUNK for k in range(1, size // CHUNK + 1)}
    for end in sorted(e for e in ends if e < len(sealed)):
        with pytest.raises(SealBroken):
            open_sealed(KEY, "r1", sealed[:end])


def test_a_flipped_bit_anywhere_is_refused() -> None:
    sealed = seal(KEY, "r1", audio(2 * CHUNK + 100))
    for at in [0, 8, 9, 20, 31, HEADER_SIZE, HEADER_SIZE + CHUNK, HEADER_SIZE + SEALED_CHUNK,
               len(sealed) - 17, len(sealed) - 1]:  # fmt: skip
        flipped = bytearray(sealed)
        flipped[at] ^= 0x01
        with pytest.raises(SealBroken):
            open_sealed(KEY, "r1", bytes(flipped))


def test_chunks_swapped_repeated_or_added_are_refused() -> None:
    sealed = seal(KEY, "r1", audio(3 * CHUNK))
    header, body = sealed[:HEADER_SIZE], sealed[HEADER_SIZE:]
    first, second = body[:SEALED_CHUNK], body[SEALED_CHUNK : 2 * SEALED_CHUNK]
    rest = body[2 * SEALED_CHUNK :]
    for bad in [
        header + second + first + rest,
        header + first + first + second + rest,
        header + first + second,  # the last chunk dropped: the one before is not marked last
        sealed + b"\x00" * 16,
        sealed + seal(KEY, "r1", b"")[HEADER_SIZE:],
    ]:
        with pytest.raises(SealBroken):
            open_sealed(KEY, "r1", bad)


def test_another_recordings_file_and_another_key_are_refused() -> None:
    sealed = seal(KEY, "r1", audio(CHUNK + 1))
    with pytest.raises(SealBroken, match="authentication"):
        open_sealed(KEY, "r2", sealed)
    with pytest.raises(SealBroken, match="authentication"):
        open_sealed(key_from_text(new_key_text()), "r1", sealed)


def test_what_is_not_a_sealed_file_is_refused() -> None:
    with pytest.raises(SealBroken, match="no header"):
        open_sealed(KEY, "r1", b"RIFF" + bytes(100))
    with pytest.raises(SealBroken, match="version"):
        open_sealed(KEY, "r1", b"CCGWREC\x00\x02" + bytes(100))
    with pytest.raises(SealBroken):
        plain_size(HEADER_SIZE + SEALED_CHUNK + 16)  # an empty chunk after a full one


def test_a_key_file_holds_32_bytes_of_base64() -> None:
    assert len(key_from_text(new_key_text() + "\n")) == 32
    for bad in ["not base64!", "c2hvcnQ="]:
        with pytest.raises(ValueError, match="recordings key"):
            key_from_text(bad)


# The recordings folder


def test_a_measured_file_is_sealed_and_its_plain_file_gone(tmp_path: Path) -> None:
    files = RecordingFiles(tmp_path, KEY)
    plain = audio(CHUNK * 2 + 3)
    (tmp_path / "r1.wav").write_bytes(plain)
    expected = (len(plain), hashlib.sha256(plain).hexdigest())
    assert files.measure("r1", "r1.wav") == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r1.wav.enc"]
    assert (tmp_path / "r1.wav.enc").stat().st_mode & 0o077 == 0
    assert files.is_sealed("r1.wav")
    assert files.measure("r1", "r1.wav") == expected  # again: from the sealed file
    found = files.audio("r1", "r1.wav")
    assert found is not None and (found.size, found.path) == (len(plain), None)
    assert b"".join(found.read()) == plain
    assert files.delete(["r1.wav", "r2.wav"]) == 1
    assert list(tmp_path.iterdir()) == []


def test_without_a_key_nothing_changes(tmp_path: Path) -> None:
    files = RecordingFiles(tmp_path)
    (tmp_path / "r1.wav").write_bytes(b"RIFF....")
    assert files.measure("r1", "r1.wav") == (8, hashlib.sha256(b"RIFF....").hexdigest())
    found = files.audio("r1", "r1.wav")
    assert found is not None and found.path == tmp_path / "r1.wav" and not files.is_sealed("r1.wav")
    assert files.audio("r2", "r2.wav") is None and files.measure("r2", "r2.wav") is None


def test_a_tampered_sealed_file_is_unreadable(tmp_path: Path) -> None:
    files = RecordingFiles(tmp_path, KEY)
    plain = audio(3 * CHUNK)
    (tmp_path / "r1.wav").write_bytes(plain)
    files.measure("r1", "r1.wav")
    sealed = tmp_path / "r1.wav.enc"
    data = bytearray(sealed.read_bytes())
    data[HEADER_SIZE + 2 * SEALED_CHUNK + 5] ^= 0x80  # in the last chunk
    sealed.write_bytes(bytes(data))
    found = files.audio("r1", "r1.wav")
    assert found is not None
    handed_out = bytearray()
    with pytest.raises(UnreadableRecording, match=r"r1\.wav\.enc: the last chunk"):
        for piece in found.read():
            handed_out += piece
    assert handed_out == plain[: 2 * CHUNK]  # the authenticated chunks only
    sealed.write_bytes(bytes(data[: HEADER_SIZE + 2 * SEALED_CHUNK + 5]))
    with pytest.raises(UnreadableRecording, match="no sealed file's size"):
        files.audio("r1", "r1.wav")
    sealed.write_bytes(bytes(data[:-1]))  # cut inside the last chunk: found when read
    found = files.audio("r1", "r1.wav")
    assert found is not None and found.size == 3 * CHUNK - 1
    with pytest.raises(UnreadableRecording, match="authentication"):
        b"".join(found.read())
    (tmp_path / "r2.wav.enc").write_bytes(bytes(data[:-1]))
    with pytest.raises(UnreadableRecording, match="no recordings key"):
        RecordingFiles(tmp_path).audio("r2", "r2.wav")


@pytest.mark.parametrize("key", [None, KEY])
def test_raw_stereo_audio_becomes_the_wav_the_record_names(
    tmp_path: Path, key: bytes | None
) -> None:
    """Asterisk's MixMonitor D writes interleaved 16-bit samples as <id>.raw."""
    frames = array.array("h", [n % 300 if i % 2 else 0 for n in range(8000) for i in (0, 1)])
    raw = frames.tobytes() + b"\x01"  # a torn last frame is dropped
    (tmp_path / "r1.raw").write_bytes(raw)
    files = RecordingFiles(tmp_path, key)
    size, _ = files.measure("r1", "r1.wav") or (0, "")
    assert not (tmp_path / "r1.raw").exists()
    found = files.audio("r1", "r1.wav")
    assert found is not None and found.size == size
    with wave.open(io.BytesIO(b"".join(found.read()))) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (2, 2, 8000)
        assert wav.readframes(wav.getnframes()) == frames.tobytes()
    assert files.delete(["r1.wav"]) == 1 and list(tmp_path.iterdir()) == []
