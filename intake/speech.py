"""Speech-to-text for hotline recordings: pluggable engines behind the `SpeechEngine` protocol.

`WhisperEngine` runs a Whisper-family checkpoint (e.g. PhoWhisper) saved in a local directory, through the
transformers speech-recognition pipeline. Nothing is fetched from the Hugging Face hub, and no ffmpeg is
needed: recordings are decoded here and resampled with scipy, which scikit-learn already depends on. Only WAV
is decoded; Twilio serves every recording as WAV (its default, and with the ``.wav`` suffix).

torch and transformers (the ``hf`` extra) are imported only when a `WhisperEngine` is built, so that the app
and the CLI can import this module, and call `make_engine(None)`, without them.
"""
from __future__ import annotations

import io
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from scipy.io import wavfile
from scipy.signal import resample_poly

if TYPE_CHECKING:
    from transformers import AutomaticSpeechRecognitionPipeline, PreTrainedModel, PreTrainedTokenizerBase

log = logging.getLogger(__name__)

LANGUAGE: Final = "vi"
WHISPER_SAMPLING_RATE: Final = 16_000
# Files the pipeline needs. Checked up front because a missing one otherwise surfaces as a hub lookup error
# (we are offline) that does not say which file is missing.
REQUIRED_FILES: Final = ("config.json", "preprocessor_config.json", "tokenizer_config.json")
# Every rate real recordings use (telephony 8 kHz to studio 384 kHz); outside it the header is corrupt, and
# resampling a file that claims 1 Hz to 16 kHz would need 16000 times its size in memory.
PLAUSIBLE_RATES: Final = range(4_000, 384_001)

Samples = npt.NDArray[np.float32]


class UndecodableAudio(ValueError):
    """The recording is not audio this module can decode (not WAV, corrupt, or an unsupported encoding)."""


@dataclass(frozen=True, slots=True)
class Transcript:
    """What an engine heard in one recording.

    ``language`` is the language the engine transcribes for: Vietnamese, forced where the model can be told,
    and otherwise assumed of the checkpoint (a monolingual fine-tune). ``duration_s`` is the recording's
    length, when the engine knows it.
    """

    text: str
    engine: str
    language: str = LANGUAGE
    duration_s: float | None = None

    def as_json(self) -> dict[str, Any]:
        """The transcript as a JSON-ready dict."""
        return {"text": self.text, "engine": self.engine, "language": self.language,
                "duration_s": self.duration_s}


@runtime_checkable
class SpeechEngine(Protocol):
    """Turns one recording into text. Blocking: callers run it through `asyncio.to_thread`."""

    name: str

    def transcribe(self, audio: bytes, *, content_type: str = "audio/wav") -> Transcript:
        """Transcribe the recording in `audio` (a whole file, e.g. a Twilio recording's bytes)."""
        ...


def decode_wav(audio: bytes, *, content_type: str = "audio/wav") -> tuple[Samples, int]:
    """Decode a WAV file to float32 samples in [-1, 1], shaped (frames, channels), and its sample rate.

    Accepts integer PCM of 8 to 64 bits and IEEE float, mono or multi-channel. `content_type` only makes error
    messages clearer: the container is recognised from the bytes, because callers and proxies label recordings
    loosely.
    """
    if len(audio) < 12 or audio[:4] != b"RIFF" or audio[8:12] != b"WAVE":
        raise UndecodableAudio(
            f"not a WAV file (content_type={content_type!r}, {len(audio)} bytes starting {audio[:12]!r}); "
            "only WAV is supported, so fetch Twilio recordings with the .wav suffix")
    try:
        rate, data = wavfile.read(io.BytesIO(audio))
    # scipy reports malformed files with whatever its parser trips on (ValueError, struct.error, even
    # UnboundLocalError for a file with no chunk it knows), so every failure here means "undecodable".
    except Exception as err:
        raise UndecodableAudio(f"undecodable WAV (content_type={content_type!r}): {err}") from err
    if rate not in PLAUSIBLE_RATES:
        raise UndecodableAudio(f"WAV header gives an implausible sample rate: {rate} Hz")
    samples = _to_float(np.asarray(data))
    if samples.ndim == 1:
        samples = samples[:, np.newaxis]
    if not np.isfinite(samples).all():
        raise UndecodableAudio("WAV holds non-finite samples (NaN or infinity)")
    return samples, int(rate)


def resample_mono(samples: Samples, rate: int, *, target_rate: int = WHISPER_SAMPLING_RATE) -> Samples:
    """Average the channels of (frames, channels) `samples` and resample them from `rate` to `target_rate`."""
    # float32 throughout: an hour-long call is 58 M samples at 16 kHz, and audio needs no more precision
    mono = samples.mean(axis=1, dtype=np.float32) if samples.ndim == 2 else samples.astype(np.float32)
    if rate != target_rate and mono.size:
        # Polyphase filtering with an anti-aliasing low-pass: phone audio is 8 kHz and desktop WAVs 44.1 or
        # 48 kHz, and plain interpolation would fold everything above 8 kHz back into the speech band.
        common = math.gcd(rate, target_rate)
        mono = resample_poly(mono, target_rate // common, rate // common)
    return np.asarray(mono, dtype=np.float32)


def _to_float(data: npt.NDArray[Any]) -> Samples:
    """Integer PCM scaled to [-1, 1]; float data as it is."""
    if data.dtype.kind == "f":
        return data.astype(np.float32)
    if data.dtype == np.uint8:  # 8-bit WAV is the one unsigned format, centred on 128
        return ((data.astype(np.float32) - 128.0) / 128.0).astype(np.float32)
    if data.dtype.kind == "i":
        # scipy left-justifies 24-bit samples in int32, so the container width is the right scale
        return (data.astype(np.float64) / float(2 ** (8 * data.dtype.itemsize - 1))).astype(np.float32)
    raise UndecodableAudio(f"unsupported WAV sample type {data.dtype}")


class WhisperEngine:
    """A local Whisper-family checkpoint behind the `SpeechEngine` protocol.

    The model loads in the constructor, which takes seconds: build the engine once at start-up, in a
    thread. A missing or incomplete directory therefore fails start-up rather than the first call.
    `transcribe` is safe to call from several threads at once.

    Vietnamese is forced (``language="vi"``, ``task="transcribe"``) when the checkpoint knows the ``<|vi|>``
    token; otherwise, as for a monolingual fine-tune or a test model without language tokens, the model
    decodes with its own defaults, and ``forced_language`` is None.

    Recordings longer than `chunk_length_s` are cut into windows overlapping by a sixth of their length on
    each side, which the pipeline transcribes one by one and stitches back together.
    """

    def __init__(self, model_dir: Path, *, device: str = "cpu", chunk_length_s: float = 30.0) -> None:
        model_dir = Path(model_dir)
        if not model_dir.is_dir():
            raise FileNotFoundError(f"speech model directory not found (or not a directory): {model_dir}")
        missing = [name for name in REQUIRED_FILES if not (model_dir / name).is_file()]
        if missing:
            raise ValueError(f"{model_dir} is not a saved Whisper model with its processor: "
                             f"missing {missing}")
        if not chunk_length_s > 0:  # written so that NaN fails too
            raise ValueError(f"chunk_length_s must be > 0, got {chunk_length_s!r}")

        import torch
        from transformers import (AutoConfig, AutoFeatureExtractor, AutoModelForSpeechSeq2Seq, AutoTokenizer,
                                  pipeline)

        try:
            config = AutoConfig.from_pretrained(model_dir, local_files_only=True)
            if config.model_type != "whisper":
                raise ValueError(f"model_type is {config.model_type!r}, not 'whisper'")
            tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
            feature_extractor = AutoFeatureExtractor.from_pretrained(  # type: ignore[no-untyped-call]
                model_dir, local_files_only=True)
            model = AutoModelForSpeechSeq2Seq.from_pretrained(model_dir, local_files_only=True)
        except (OSError, ValueError) as err:
            raise ValueError(f"{model_dir} is not a loadable Whisper model: {err}") from err

        # The feature extractor pads or cuts every window to its own length (30 s for Whisper), so a longer
        # chunk would silently drop the audio past that point.
        if chunk_length_s > feature_extractor.chunk_length:
            raise ValueError(f"chunk_length_s must be <= {feature_extractor.chunk_length} (the model's "
                             f"window), got {chunk_length_s!r}")

        self.model_dir = model_dir
        self.device = device
        self.chunk_length_s = chunk_length_s
        self.name: str = f"whisper:{model_dir.name}"
        self.forced_language: str | None = LANGUAGE if _force_language(model, tokenizer, LANGUAGE) else None
        self.sampling_rate: int = int(feature_extractor.sampling_rate)
        self.pipeline: AutomaticSpeechRecognitionPipeline = pipeline(
            "automatic-speech-recognition", model=model.eval(), tokenizer=tokenizer,
            feature_extractor=feature_extractor, device=torch.device(device))
        self._generate_kwargs: dict[str, str] = (
            {"language": self.forced_language, "task": "transcribe"} if self.forced_language else {})
        log.info("loaded speech engine name=%s model_dir=%s device=%s forced_language=%s", self.name,
                 model_dir, device, self.forced_language)

    def transcribe(self, audio: bytes, *, content_type: str = "audio/wav") -> Transcript:
        """Transcribe one WAV recording; raises `UndecodableAudio` if the bytes are not decodable WAV."""
        samples, rate = decode_wav(audio, content_type=content_type)
        duration_s = samples.shape[0] / rate
        mono = resample_mono(samples, rate, target_rate=self.sampling_rate)
        if mono.size == 0:
            return Transcript(text="", engine=self.name, duration_s=duration_s)
        started = time.perf_counter()
        # The pipeline's strided chunking works for every checkpoint, where Whisper's own long-form mode needs
        # timestamp tokens that fine-tunes may not predict. The warning this silences says the stitching is
        # approximate at window edges: https://github.com/huggingface/transformers/pull/20104
        # One input gives one dict, whatever the pipeline's annotation (a list) says.
        output: Any = self.pipeline({"raw": mono, "sampling_rate": self.sampling_rate},
                                    chunk_length_s=self.chunk_length_s, ignore_warning=True,
                                    generate_kwargs=dict(self._generate_kwargs))
        text = str(output["text"]).strip()
        log.info("transcribed engine=%s duration_s=%.1f elapsed_s=%.1f chars=%d", self.name, duration_s,
                 time.perf_counter() - started, len(text))
        return Transcript(text=text, engine=self.name, duration_s=duration_s)


def _force_language(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, language: str) -> bool:
    """Whether the model can be told `language`; completes an outdated generation config if need be."""
    generation = model.generation_config
    if getattr(generation, "is_multilingual", None) is False:  # English-only checkpoints reject `language`
        return False
    token = f"<|{language}|>"
    lang_to_id: dict[str, int] = dict(getattr(generation, "lang_to_id", None) or {})
    task_to_id: dict[str, int] = dict(getattr(generation, "task_to_id", None) or {})
    if token in lang_to_id and "transcribe" in task_to_id:
        return True
    # Checkpoints fine-tuned with older transformers saved generation configs without these maps, though
    # their tokenizer has the tokens: https://github.com/huggingface/transformers/issues/25084
    vocab = tokenizer.get_vocab()
    if token in vocab and "<|transcribe|>" in vocab:
        # setattr: GenerationConfig keeps model-specific fields as dynamic attributes
        setattr(generation, "lang_to_id", {**lang_to_id, token: vocab[token]})
        setattr(generation, "task_to_id", {**task_to_id, "transcribe": vocab["<|transcribe|>"]})
        log.info("completed the generation config of %s with %s and <|transcribe|> from its tokenizer",
                 model.name_or_path, token)
        return True
    return False


def make_engine(asr_model_dir: str | None) -> SpeechEngine | None:
    """A `WhisperEngine` over `asr_model_dir`, or None when no speech model is configured."""
    if asr_model_dir is None or not asr_model_dir.strip():
        return None
    return WhisperEngine(Path(asr_model_dir).expanduser())
