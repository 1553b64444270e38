"""Make the bundled demo clip: slow camera moves over CC0/public-domain photos, with synthesized audio.

The clip ships in the wheel (stylecam/assets/demo/demo_clip.mp4), so every frame and sample must be
freely licensed: the pictures are scikit-image's CC0 sample photos (coffee.png by Rachel Michetti,
chelsea.png by Stefan van der Walt; scikit-image `skimage/data/`), and the sound is a sine-tone
arpeggio synthesized here. Run once; the output is committed.

    python tools/make_demo_clip.py --coffee coffee.png --chelsea chelsea.png -o stylecam/assets/demo/demo_clip.mp4
"""

from __future__ import annotations

import argparse
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

WIDTH, HEIGHT, FPS = 384, 256, 20
SAMPLE_RATE = 44100


def _ease(t: float) -> float:
    return 0.5 - 0.5 * np.cos(np.pi * min(max(t, 0.0), 1.0))


def _shot(
    image: np.ndarray, start: tuple[float, float, float], end: tuple[float, float, float], t: float
) -> np.ndarray:
    """Crop window centred at (cx, cy) with width w (in source px), eased from start to end, resized to the frame."""
    cx, cy, w = (a + (b - a) * _ease(t) for a, b in zip(start, end))
    scale = WIDTH / w
    matrix = np.array([[scale, 0, WIDTH / 2 - cx * scale], [0, scale, HEIGHT / 2 - cy * scale]], np.float32)
    return cv2.warpAffine(image, matrix, (WIDTH, HEIGHT), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


def make_frames(coffee: np.ndarray, chelsea: np.ndarray) -> list[np.ndarray]:
    first, second, fade = int(3.5 * FPS), int(3.0 * FPS), int(0.6 * FPS)
    frames = [_shot(coffee, (250, 190, 430), (340, 210, 340), i / (first - 1)) for i in range(first)]
    cat = [_shot(chelsea, (225, 150, 440), (250, 120, 330), i / (second - 1)) for i in range(second)]
    for i in range(fade):  # crossfade: a gradual scene change, the hard case for temporal smoothing
        alpha = (i + 1) / (fade + 1)
        frames[-fade + i] = cv2.addWeighted(frames[-fade + i], 1 - alpha, cat[i], alpha, 0)
    return frames + cat[fade:]


def make_audio(seconds: float) -> np.ndarray:
    """A soft C-major arpeggio (sine tones with decay), stereo float32 in [-1, 1], shape (2, samples)."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    notes = [261.63, 329.63, 392.00, 523.25, 392.00, 329.63]
    audio = np.zeros_like(t)
    step = 0.5
    for k, start in enumerate(np.arange(0, seconds, step)):
        freq = notes[k % len(notes)]
        local = t - start
        env = np.where(local >= 0, np.exp(-3.0 * np.clip(local, 0, None)), 0.0)
        audio += 0.18 * env * np.sin(2 * np.pi * freq * t)
    audio *= np.minimum(1.0, (seconds - t) / 0.3)  # fade out
    return np.stack([audio, audio]).astype(np.float32)


def write_clip(path: Path, frames: list[np.ndarray], audio: np.ndarray) -> None:
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.options = {"crf": "21", "preset": "slow"}
        sound = container.add_stream("aac", rate=SAMPLE_RATE)
        sound.layout = "stereo"
        for frame in frames:
            for packet in video.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        chunk = 1024
        for i, start in enumerate(range(0, audio.shape[1], chunk)):
            block = np.ascontiguousarray(audio[:, start : start + chunk])
            af = av.AudioFrame.from_ndarray(block, format="fltp", layout="stereo")
            af.sample_rate, af.pts, af.time_base = SAMPLE_RATE, i * chunk, Fraction(1, SAMPLE_RATE)
            for packet in sound.encode(af):
                container.mux(packet)
        for packet in sound.encode():
            container.mux(packet)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coffee", required=True, type=Path)
    parser.add_argument("--chelsea", required=True, type=Path)
    parser.add_argument("-o", "--output", required=True, type=Path)
    args = parser.parse_args()
    frames = make_frames(cv2.imread(str(args.coffee)), cv2.imread(str(args.chelsea)))
    write_clip(args.output, frames, make_audio(len(frames) / FPS))
    print(f"wrote {args.output}: {len(frames)} frames, {args.output.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
