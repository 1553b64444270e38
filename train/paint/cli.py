"""``stylecam paint CONTENT STYLE -o OUT``: optimisation-based style transfer of one image.

Imports torch only inside :func:`run`, so building the parser stays cheap.
"""

from __future__ import annotations

import argparse
import logging

from stylecam.atomic import atomic_output
from stylecam.errors import require_torch
from stylecam.images import check_image_suffix, read_image, write_image
from stylecam.paths import check_input_file
from stylecam.train.paint.config import INITS, OPTIMIZERS, PaintConfig

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = PaintConfig()
    parser.add_argument("content", help="photo to repaint (PNG, JPEG, ...)")
    parser.add_argument("style", help="painting whose style to take")
    parser.add_argument("-o", "--output", required=True, help="where to write the result (.png, .jpg, ...)")
    parser.add_argument("--size", type=int, default=d.size, help="long side of the result in px")
    parser.add_argument("--steps", type=int, default=d.steps, help="optimisation steps (one VGG pass each)")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default=d.optimizer)
    parser.add_argument("--content-weight", type=float, default=d.content_weight)
    parser.add_argument("--style-weight", type=float, default=d.style_weight)
    parser.add_argument("--tv-weight", type=float, default=d.tv_weight, help="total variation (smoothness)")
    parser.add_argument(
        "--style-scale",
        type=float,
        default=d.style_scale,
        help="style image size relative to --size (smaller = finer brush strokes)",
    )
    parser.add_argument("--lr", type=float, default=d.learning_rate, help="Adam step size in 0-255 pixel units")
    parser.add_argument("--init", choices=INITS, default=d.init, help="start from the photo or from noise")
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument(
        "--preserve-color", action="store_true", help="transfer luminance only and keep the photo's colours"
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument(
        "--vgg-weights",
        metavar="PATH",
        help="torchvision vgg19 state dict to use instead of the bundled original VGG19",
    )


def run(args: argparse.Namespace) -> int:
    # Everything the user typed is checked before the slow part starts.
    content_path = check_input_file(args.content, what="content image")
    style_path = check_input_file(args.style, what="style image")
    check_image_suffix(args.output)
    require_torch("stylecam paint")

    from stylecam.train.losses.vgg import load_vgg_weights
    from stylecam.train.paint.optimize import paint

    config = PaintConfig(
        size=args.size,
        steps=args.steps,
        optimizer=args.optimizer,
        content_weight=args.content_weight,
        style_weight=args.style_weight,
        tv_weight=args.tv_weight,
        init=args.init,
        seed=args.seed,
        preserve_color=args.preserve_color,
        style_scale=args.style_scale,
        learning_rate=args.lr,
    )
    content = read_image(content_path, what="content image")
    style = read_image(style_path, what="style image")
    weights = load_vgg_weights(args.vgg_weights)
    with atomic_output(args.output, inputs=[content_path, style_path]) as tmp:
        result = paint(content.bgr, style.bgr, config, device=args.device, vgg_weights=weights, progress=not args.quiet)
        alpha = None
        if content.alpha is not None:
            import cv2

            height, width = result.image.shape[:2]
            alpha = cv2.resize(content.alpha, (width, height), interpolation=cv2.INTER_AREA)
        write_image(tmp, result.image, alpha)
    last = result.history[-1]
    print(
        f"wrote {args.output} ({result.image.shape[1]}x{result.image.shape[0]}, {config.steps} steps, "
        f"{result.seconds:.1f} s on {result.device}; "
        f"content loss {last['content']:.3g}, style loss {last['style']:.3g})"
    )
    return 0
