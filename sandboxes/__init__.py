"""The checker sandbox: image, compose file, setup scripts and the in-container runner.

Installed as ``harness.sandboxes``; ``runner.py`` is standard-library only and is also
imported on the host for the wire protocol.
"""
