"""Speech-to-text engines, on tiny Whisper models built here and Vietnamese speech synthesised by espeak-ng.

The models are random, so what they "hear" is noise. The tests check what the engine promises instead: audio
is decoded and resampled faithfully, the whole recording reaches the model, the model is told to transcribe
Vietnamese when it can be, and bad input fails clearly. Everything is built offline, once per module.
"""
from __future__ import annotations

import io
import json
import math
import shutil
import socket
import subprocess
import wave
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import FrozenInstanceError
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt
import pytest
import torch
from scipy.io import wavfile
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import (GenerationConfig, WhisperConfig, WhisperFeatureExtractor,
                          WhisperForConditionalGeneration, WhisperTokenizer)
from torch.utils.hooks import RemovableHandle
from transformers.models.whisper.tokenization_whisper import LANGUAGES

from intake.speech import (UndecodableAudio, SpeechEngine, Transcript, WhisperEngine, decode_wav, make_engine,
                           resample_mono)

PHRASE = "tôi bị khó thở"
CORPUS = [PHRASE, "bố tôi khó thở cần cấp cứu ngay", "cho hỏi giờ làm việc của phường", "cháy nhà ở xã"]
LANGUAGE_TOKENS = [f"<|{code}|>" for code in LANGUAGES]
# Whisper's own layout: text tokens first, then <|endoftext|>, <|startoftranscript|>, the languages in
# LANGUAGES order, the tasks and the rest, <|notimestamps|> last.
TASK_TOKENS = ["<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nocaptions|>"]
# Random weights rarely emit <|endoftext|>, so each call decodes up to this cap; real checkpoints say 448.
MAX_LENGTH = 40


def make_tokenizer(*, languages: bool) -> WhisperTokenizer:
    """A byte-level BPE Whisper tokenizer over `CORPUS`; with or without language and task tokens."""
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.train_from_iterator(CORPUS, trainers.BpeTrainer(
        vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    state = json.loads(bpe.to_str())["model"]
    tokenizer = WhisperTokenizer(vocab=state["vocab"], merges=[tuple(pair) for pair in state["merges"]])
    middle = LANGUAGE_TOKENS + TASK_TOKENS if languages else []
    specials = ["<|startoftranscript|>", *middle, "<|notimestamps|>"]
    # registered as special so that decoding drops them, as it does for the real tokenizer
    tokenizer.add_special_tokens({"extra_special_tokens": specials})
    return tokenizer


def make_tiny_whisper(directory: Path, *, languages: bool) -> None:
    """Save a random Whisper (one encoder and one decoder layer), its tokenizer and its feature extractor."""
    tokenizer = make_tokenizer(languages=languages)
    vocab = tokenizer.get_vocab()
    start, end = vocab["<|startoftranscript|>"], vocab["<|endoftext|>"]
    config = WhisperConfig(
        vocab_size=len(tokenizer), num_mel_bins=80, d_model=32, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
        max_source_positions=1500, max_target_positions=448, decoder_start_token_id=start, bos_token_id=end,
        eos_token_id=end, pad_token_id=end, begin_suppress_tokens=None, suppress_tokens=None)
    multilingual = {
        "is_multilingual": True,
        "lang_to_id": {token: vocab[token] for token in LANGUAGE_TOKENS},
        "task_to_id": {task: vocab[f"<|{task}|>"] for task in ("translate", "transcribe")},
    } if languages else {}
    generation = GenerationConfig(  # type: ignore[no-untyped-call]
        decoder_start_token_id=start, bos_token_id=end, eos_token_id=end, pad_token_id=end,
        no_timestamps_token_id=vocab["<|notimestamps|>"], max_length=MAX_LENGTH, **multilingual)
    # fork_rng keeps the fixed seed from leaking into the global RNG other tests see
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = WhisperForConditionalGeneration(config)
    model.generation_config = generation
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    WhisperFeatureExtractor(feature_size=80).save_pretrained(directory)  # type: ignore[no-untyped-call]


def make_wav(samples: npt.NDArray[Any], rate: int) -> bytes:
    """A 16-bit PCM WAV file of float `samples` in [-1, 1], shaped (frames,) or (frames, channels)."""
    frames = samples if samples.ndim == 2 else samples[:, np.newaxis]
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(frames.shape[1])
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.round(np.clip(frames, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def make_sine(frequency: float, rate: int, seconds: float, amplitude: float = 0.5) -> npt.NDArray[np.float64]:
    """`seconds` of a sine wave sampled at `rate`."""
    return amplitude * np.sin(2 * np.pi * frequency * np.arange(round(rate * seconds)) / rate)


def wav_duration(audio: bytes) -> float:
    """The length in seconds of a WAV file, read with the standard library rather than the code under test."""
    with wave.open(io.BytesIO(audio)) as recording:
        return float(recording.getnframes() / recording.getframerate())


def token_ids(engine: WhisperEngine, tokens: list[str]) -> list[int]:
    """The ids of `tokens` in the engine's vocabulary."""
    assert engine.pipeline.tokenizer is not None
    vocab = engine.pipeline.tokenizer.get_vocab()
    return [vocab[token] for token in tokens]


def record_decoder_prompts(engine: WhisperEngine) -> tuple[list[list[int]], RemovableHandle]:
    """Record the tokens each generate() call starts decoding from; returns (prompts, hook handle)."""
    prompts: list[list[int]] = []

    def hook(module: torch.nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        ids = kwargs.get("input_ids")
        # the first decoder step sees the whole prompt; later steps (with the cache) only the newest token
        if ids is not None and ids.shape[-1] > 1:
            prompts.append(ids[0].tolist())

    decoder = engine.pipeline.model.get_decoder()  # type: ignore[no-untyped-call]
    return prompts, decoder.register_forward_pre_hook(hook, with_kwargs=True)


@pytest.fixture(scope="module", autouse=True)
def offline() -> Iterator[None]:
    """Every test here runs with the hub switched off."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        yield


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Run torch single-threaded here (faster on a busy 2-core machine), restoring the setting afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A caller saying "tôi bị khó thở" (I can't breathe), as the WAV espeak-ng writes (22.05 kHz mono)."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.fail("espeak-ng is not installed; it speaks the Vietnamese these tests transcribe. "
                    "Run the tests with `make test`, which installs it.", pytrace=False)
    path = tmp_path_factory.mktemp("speech") / "kho-tho.wav"
    subprocess.run([espeak, "-v", "vi", "-w", str(path), PHRASE], check=True, capture_output=True, timeout=60)
    return path.read_bytes()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny multilingual Whisper that knows <|vi|>, as PhoWhisper does."""
    directory = tmp_path_factory.mktemp("tiny-whisper")
    make_tiny_whisper(directory, languages=True)
    return directory


@pytest.fixture(scope="module")
def plain_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Whisper with no language or task tokens at all."""
    directory = tmp_path_factory.mktemp("tiny-whisper-plain")
    make_tiny_whisper(directory, languages=False)
    return directory


@pytest.fixture(scope="module")
def engine(model_dir: Path) -> WhisperEngine:
    """The engine over the multilingual model."""
    return WhisperEngine(model_dir)


def test_engine_implements_the_protocol(engine: WhisperEngine, model_dir: Path) -> None:
    assert isinstance(engine, SpeechEngine)
    assert engine.name == f"whisper:{model_dir.name}"


def test_transcribes_vietnamese_speech(engine: WhisperEngine, speech: bytes) -> None:
    transcript = engine.transcribe(speech)
    assert isinstance(transcript, Transcript)
    assert isinstance(transcript.text, str)
    assert transcript.text == transcript.text.strip()
    assert transcript.engine == engine.name
    assert transcript.language == "vi"


def test_duration_is_the_length_of_the_recording(engine: WhisperEngine, speech: bytes) -> None:
    duration = wav_duration(speech)
    assert duration > 0.5
    assert engine.transcribe(speech).duration_s == pytest.approx(duration, abs=1e-9)


def test_the_model_is_told_to_transcribe_vietnamese(engine: WhisperEngine, speech: bytes) -> None:
    prompts, handle = record_decoder_prompts(engine)
    try:
        engine.transcribe(speech)
    finally:
        handle.remove()
    assert engine.forced_language == "vi"
    assert prompts == [token_ids(engine, ["<|startoftranscript|>", "<|vi|>", "<|transcribe|>",
                                          "<|notimestamps|>"])]


def test_a_model_without_language_tokens_decodes_with_its_defaults(plain_model_dir: Path,
                                                                  speech: bytes) -> None:
    plain = WhisperEngine(plain_model_dir)
    prompts, handle = record_decoder_prompts(plain)
    try:
        transcript = plain.transcribe(speech)
    finally:
        handle.remove()
    assert plain.forced_language is None
    assert prompts == [token_ids(plain, ["<|startoftranscript|>", "<|notimestamps|>"])]
    assert isinstance(transcript.text, str)
    assert transcript.engine == plain.name


def test_an_outdated_generation_config_is_completed_from_the_tokenizer(model_dir: Path, tmp_path: Path,
                                                                       speech: bytes) -> None:
    # checkpoints fine-tuned with older transformers have no language maps in generation_config.json
    old = tmp_path / "old-whisper"
    shutil.copytree(model_dir, old)
    generation = json.loads((old / "generation_config.json").read_text())
    for key in ("lang_to_id", "task_to_id", "is_multilingual"):
        del generation[key]
    (old / "generation_config.json").write_text(json.dumps(generation))

    completed = WhisperEngine(old)
    prompts, handle = record_decoder_prompts(completed)
    try:
        completed.transcribe(speech)
    finally:
        handle.remove()
    assert completed.forced_language == "vi"
    assert prompts[0][:3] == token_ids(completed, ["<|startoftranscript|>", "<|vi|>", "<|transcribe|>"])


def test_long_recordings_are_transcribed_in_overlapping_windows(engine: WhisperEngine, speech: bytes) -> None:
    rate, words = wavfile.read(io.BytesIO(speech))
    pause = np.zeros(rate // 2, dtype=words.dtype)
    seconds = 65
    repeats = math.ceil(seconds * rate / (len(words) + len(pause)))
    call = np.concatenate([words, pause] * repeats)[:seconds * rate]
    # 30 s windows, 5 s overlap on each side, so they start at 0, 20 and 40 s; a model given only the first
    # 30 s (Whisper's input size) would have been run once.
    windows: list[int] = []  # the batch size of each encoder call

    def count(module: torch.nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any], output: Any) -> None:
        windows.append(len(kwargs["input_features"] if "input_features" in kwargs else args[0]))

    handle = engine.pipeline.model.get_encoder().register_forward_hook(count, with_kwargs=True)
    try:
        transcript = engine.transcribe(make_wav(call.astype(np.float64) / 32768, rate))
    finally:
        handle.remove()
    assert sum(windows) == 3
    assert transcript.duration_s == pytest.approx(seconds)
    assert isinstance(transcript.text, str)


@pytest.mark.parametrize("rate", [8_000, 11_025, 16_000, 22_050, 44_100, 48_000])
def test_resampling_to_16khz_keeps_length_and_pitch(rate: int) -> None:
    samples, decoded_rate = decode_wav(make_wav(make_sine(440, rate, 1.0), rate))
    resampled = resample_mono(samples, decoded_rate)
    assert resampled.dtype == np.float32
    assert len(resampled) == 16_000
    expected = make_sine(440, 16_000, 1.0)
    # the anti-aliasing filter rings at the very ends; the signal in between must be the same sine
    np.testing.assert_allclose(resampled[800:-800], expected[800:-800], atol=2e-3)


def test_stereo_phone_audio_is_mixed_down_and_upsampled() -> None:
    left, right = make_sine(440, 8_000, 2.0), make_sine(1_000, 8_000, 2.0)
    samples, rate = decode_wav(make_wav(np.stack([left, right], axis=1), 8_000))
    assert (samples.shape, rate) == ((16_000, 2), 8_000)
    mono = resample_mono(samples, rate)
    assert mono.shape == (32_000,)
    spectrum = np.abs(np.fft.rfft(mono)) * 2 / len(mono)  # amplitude per 0.5 Hz bin
    peaks = {round(float(np.fft.rfftfreq(len(mono), 1 / 16_000)[i])): float(spectrum[i])
             for i in np.argsort(spectrum)[-2:]}
    # each channel's tone is there, at half its amplitude, and nothing else is
    assert peaks.keys() == {440, 1_000}
    assert all(value == pytest.approx(0.25, abs=0.01) for value in peaks.values())
    assert np.delete(spectrum, [880, 2_000]).max() < 0.01


@pytest.mark.parametrize(("dtype", "full_scale"), [
    (np.uint8, 255), (np.int16, 32767), (np.int32, 2**31 - 1), (np.float32, 1.0)])
def test_pcm_formats_are_scaled_to_unit_range(dtype: type[np.generic], full_scale: float) -> None:
    buffer = io.BytesIO()
    quiet = 128 if dtype is np.uint8 else 0
    wavfile.write(buffer, 16_000, np.array([quiet, full_scale, quiet], dtype=dtype))
    samples, rate = decode_wav(buffer.getvalue())
    assert rate == 16_000
    np.testing.assert_allclose(samples[:, 0], [0.0, 1.0, 0.0], atol=1e-2)


@pytest.mark.parametrize("audio", [
    b"",
    b"this is not audio",
    b"ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x00",  # an MP3
    b"RIFF\x24\x00\x00\x00WAVEfmt ",  # cut off inside the header
    b"RIFF\x0c\x00\x00\x00WAVEdata\x00\x00\x00\x00",  # samples with no format chunk before them
    make_wav(np.zeros(100), 100),  # a corrupt header: no recording is sampled at 100 Hz
], ids=["empty", "text", "mp3", "truncated", "no-fmt", "rate-100"])
def test_undecodable_audio_is_rejected(engine: WhisperEngine, audio: bytes) -> None:
    with pytest.raises(UndecodableAudio):
        decode_wav(audio)
    with pytest.raises(UndecodableAudio):
        engine.transcribe(audio)


@pytest.mark.parametrize("audio", [b"ID3\x04\x00\x00\x00", b"RIFF\x24\x00\x00\x00WAVEfmt "])
def test_decode_errors_are_value_errors_naming_the_content_type(engine: WhisperEngine, audio: bytes) -> None:
    assert issubclass(UndecodableAudio, ValueError)
    with pytest.raises(ValueError, match="content_type='audio/mpeg'"):
        engine.transcribe(audio, content_type="audio/mpeg")


def test_an_empty_recording_has_an_empty_transcript(engine: WhisperEngine) -> None:
    transcript = engine.transcribe(make_wav(np.zeros(0), 8_000))
    assert (transcript.text, transcript.duration_s) == ("", 0.0)


def test_concurrent_transcriptions_agree_with_serial_ones(engine: WhisperEngine, speech: bytes) -> None:
    # the service calls transcribe from asyncio.to_thread, so one engine serves several threads at once
    expected = engine.transcribe(speech)
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: engine.transcribe(speech), range(3)))
    assert results == [expected] * 3


def test_transcript_is_a_frozen_record() -> None:
    transcript = Transcript(text="tôi bị khó thở", engine="whisper:tiny", duration_s=1.5)
    assert transcript.as_json() == {"text": "tôi bị khó thở", "engine": "whisper:tiny", "language": "vi",
                                    "duration_s": 1.5}
    with pytest.raises(FrozenInstanceError):
        transcript.text = "changed"  # type: ignore[misc]


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no-such-model"):
        WhisperEngine(tmp_path / "no-such-model")


def test_a_directory_without_a_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="config.json"):
        WhisperEngine(tmp_path)


def test_a_model_that_is_not_whisper_is_rejected(model_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "not-whisper"
    shutil.copytree(model_dir, other)
    config = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**config, "model_type": "speech_to_text"}))
    with pytest.raises(ValueError, match="not 'whisper'"):
        WhisperEngine(other)


@pytest.mark.parametrize("chunk_length_s", [0.0, -1.0, math.nan, 31.0])
def test_chunk_length_must_fit_the_model_window(model_dir: Path, chunk_length_s: float) -> None:
    with pytest.raises(ValueError, match="chunk_length_s"):
        WhisperEngine(model_dir, chunk_length_s=chunk_length_s)


@pytest.mark.parametrize("configured", [None, "", "  "])
def test_no_engine_when_no_model_is_configured(configured: str | None) -> None:
    assert make_engine(configured) is None


def test_make_engine_loads_the_configured_model(plain_model_dir: Path) -> None:
    made = make_engine(str(plain_model_dir))
    assert isinstance(made, WhisperEngine)
    assert made.model_dir == plain_model_dir


def test_loading_and_transcribing_never_touch_the_network(plain_model_dir: Path, speech: bytes,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    assert isinstance(WhisperEngine(plain_model_dir).transcribe(speech), Transcript)
