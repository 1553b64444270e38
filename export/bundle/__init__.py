"""Packaging bundled styles: fp16 export with the parity gate, measurements, model cards, catalog.

Used by ``tools/package_styles.py``; may import everything below export.
"""
