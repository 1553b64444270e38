"""``stylecam learn``: a user's own painting to a ready-to-run style model within a time budget.

Starts from the bundled style whose painting is closest in VGG19 Gram space, fine-tunes its
reference network on the painting, distils a lite network from it, exports both through the
parity gate and files them, with a model card and a thumbnail, in the user model folder, where
``--model NAME`` finds them. Interrupted jobs keep a usable model and resume.

Modules: ``settings`` (quality presets, the request), ``painting`` (checks on the picture),
``store`` (the model folder, names, saved state), ``photos`` (training photos), ``nearest``
(the starting style), ``budget`` (time-boxed training in resumable chunks), ``progress`` (the job's
bar and the preview), ``publish`` (export, catalog, card, thumbnail), ``job`` (the whole job) and
``cli``.
"""
