"""``python -m yolo_pipeline.container [train] [--sm-root DIR]``: the training entrypoint.

The same ``entry.main`` the image's ``train.py`` calls, found through the installed package
rather than a path into a checkout; baked weights come from ``$YOLO_WEIGHTS_DIR`` (else
``/opt/ml/code/weights``, the image's).
"""

from __future__ import annotations

import sys

from yolo_pipeline.container.entry import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
