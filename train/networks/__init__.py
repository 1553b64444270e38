"""The feed-forward style networks: reference TransformerNet, compact lite/fast nets and their blocks.

No I/O and no device logic. Imports only ``stylecam`` core and ``train.config``.
"""
