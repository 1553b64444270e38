"""Carry a source's audio into the stylized output, interleaved with the video as it is written.

The audio packets are copied unchanged (no quality loss) when the output container accepts the
codec; otherwise they are decoded and re-encoded (AAC, or Opus for WebM), with a notice.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import av

from stylecam.runtime.media.encoders import encoder_available

log = logging.getLogger(__name__)

# What players reliably accept in each container (FFmpeg muxes more, e.g. PCM into MP4, but few play it).
_COPYABLE = {
    "mp4": {"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"},
    "mov": {"aac", "mp3", "ac3", "eac3", "alac", "pcm_s16le", "pcm_s16be", "pcm_s24le", "pcm_s24be", "pcm_f32le"},
    "matroska": None,  # anything FFmpeg can mux
    "webm": {"opus", "vorbis"},
    "avi": {"mp3", "ac3", "pcm_s16le"},
}
_TRANSCODE_TO = {"webm": ("libopus", "Opus"), "avi": ("libmp3lame", "MP3")}
_DEFAULT_TARGET = ("aac", "AAC")


class AudioCarrier:
    """Moves audio from ``source`` into ``output`` up to a given time (call :meth:`mux_until` per frame).

    Args:
        source: the input file whose first audio stream is carried.
        output: the open output container (video stream already added).
        muxer: the output's FFmpeg muxer name (mp4, mov, matroska, webm, avi).
    """

    def __init__(self, source: str | os.PathLike[str], output: av.container.OutputContainer, muxer: str) -> None:
        self._input = av.open(os.fspath(source))
        self._output = output
        in_stream = self._input.streams.audio[0]
        self.codec = in_stream.codec_context.name
        allowed = _COPYABLE.get(muxer)
        if self.codec in output.supported_codecs and (allowed is None or self.codec in allowed):
            self._stream = output.add_stream_from_template(in_stream, opaque=True)
            self.copied = True
            self.description = f"{self.codec}, copied unchanged"
        else:
            encoder, label = _TRANSCODE_TO.get(muxer, _DEFAULT_TARGET)
            if not encoder_available(encoder):
                encoder, label = _DEFAULT_TARGET
            rate = in_stream.codec_context.sample_rate or 48000
            self._stream = output.add_stream(encoder, rate=rate)
            self._stream.layout = in_stream.codec_context.layout
            self.copied = False
            self.description = f"{self.codec} converted to {label}"
            log.warning(
                "audio (%s) cannot go into a %s file unchanged; converted to %s (write .mkv to keep it as it is)",
                self.codec,
                muxer,
                label,
            )
        self._packets: Iterator[av.Packet] = self._input.demux(in_stream)
        self._pending: av.Packet | None = None
        self._done = False
        self.packets = 0

    def mux_until(self, seconds: float | None) -> None:
        """Write the audio up to ``seconds`` (stream time; None: all of it)."""
        while not self._done:
            packet = self._pending or next(self._packets, None)
            self._pending = None
            if packet is None:
                self._done = True
                break
            if packet.pts is None or packet.time_base is None:
                continue  # the demuxer's end-of-stream marker
            if seconds is not None and float(packet.pts * packet.time_base) > seconds:
                self._pending = packet
                break
            self._write(packet)

    def _write(self, packet: av.Packet) -> None:
        self.packets += 1
        if self.copied:
            packet.stream = self._stream
            self._output.mux(packet)
            return
        for frame in packet.decode():
            self._output.mux(self._stream.encode(frame))

    def finish(self, seconds: float | None) -> None:
        """Write the rest (up to ``seconds``), flush a re-encoder, and close the input."""
        try:
            self.mux_until(seconds)
            if not self.copied:
                self._output.mux(self._stream.encode(None))
        finally:
            self.close()

    def close(self) -> None:
        """Close the audio input (idempotent)."""
        self._done = True
        self._input.close()
