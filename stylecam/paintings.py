"""The public-domain paintings stylecam bundles, and the short names their models answer to.

One row per painting in ``stylecam/assets/styles/`` (provenance and licence details in
``stylecam/assets/README.md``; a test keeps the two in step). Only paintings listed here may ship
as bundled models: the packaging tool and the catalog check refuse any other style.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Painting:
    """A bundled public-domain painting."""

    name: str  # file stem in stylecam/assets/styles/ and the bundled model's name
    title: str
    artist: str
    year: str  # a string: some dates are approximate ("c. 1831")
    status: str  # why it is public domain
    aliases: tuple[str, ...]  # short names for --model; unique across every painting

    @property
    def credit(self) -> str:
        return f"{self.title} ({self.artist}, {self.year})"


PAINTINGS: dict[str, Painting] = {
    p.name: p
    for p in (
        Painting(
            "starry_night",
            "The Starry Night",
            "Vincent van Gogh",
            "1889",
            "public domain (the artist died in 1890; faithful reproduction of a 2-D work)",
            ("starry", "van_gogh"),
        ),
        Painting(
            "great_wave",
            "The Great Wave off Kanagawa",
            "Katsushika Hokusai",
            "c. 1831",
            "public domain (the artist died in 1849)",
            ("wave", "hokusai"),
        ),
        Painting(
            "the_scream",
            "The Scream",
            "Edvard Munch",
            "1893",
            "public domain (the artist died in 1944)",
            ("scream", "munch"),
        ),
        Painting(
            "composition_vii",
            "Composition VII",
            "Wassily Kandinsky",
            "1913",
            "public domain (the artist died in 1944; published before 1929)",
            ("kandinsky", "composition"),
        ),
        Painting(
            "udnie",
            "Udnie (Young American Girl, The Dance)",
            "Francis Picabia",
            "1913",
            "public domain in the US (published before 1929) and in life+70 countries since 2024",
            ("picabia",),
        ),
        Painting(
            "wreck_of_a_transport_ship",
            "The Wreck of a Transport Ship",
            "J. M. W. Turner",
            "c. 1810",
            "public domain (the artist died in 1851)",
            ("turner", "shipwreck"),
        ),
        Painting(
            "contrast_of_forms",
            "Contrast of Forms",
            "Fernand Léger",
            "1913",
            "public domain in the US (published before 1929) and in life+70 countries from 2026",
            ("leger", "contrast"),
        ),
    )
}
