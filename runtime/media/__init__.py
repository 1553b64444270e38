"""Where frames come from and go to: cameras, video files, image sequences, encoders and audio.

Readers (``sources``, ``video_file``, ``webcam``, ``sequence``), probes of files and cameras, and
the video writer with its audio copy. Imports only ``stylecam`` core and ``runtime.config``/
``runtime.metrics``; knows nothing of models or smoothing.
"""
