"""Write the Python reference pipeline's output for the portraits as JSON test data.

Usage (from the repo root, with onnxruntime numpy pillow installed; scripts/setup.sh --python does it):
    python tools/reference_embeddings.py ../shared/models tests/data/portraits/*.png tests/data/portraits/*.jpg > tests/data/reference_embeddings.json
"""
import json
import os
import sys

model_dir, paths = sys.argv[1], sys.argv[2:]
sys.path.insert(0, model_dir)
from reference_pipeline import Pipeline  # noqa: E402

p = Pipeline(model_dir)
out = {}
for path in paths:
    score, box, kps, face, emb = p(path)
    out[os.path.basename(path)] = {
        "score": round(float(score), 6),
        "box": [round(float(v), 4) for v in box],
        "keypoints": [[round(float(x), 4), round(float(y), 4)] for x, y in kps],
        "embedding": [float(v) for v in emb],
    }
json.dump({"command": "python tools/reference_embeddings.py ../shared/models tests/data/portraits/*.png tests/data/portraits/*.jpg",
           "pipeline": "../shared/models/reference_pipeline.py (onnxruntime CPU)",
           "images": out}, sys.stdout, indent=1)
