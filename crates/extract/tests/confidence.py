"""Precision of the predicted items by confidence band, with the scorer's own item matching.

    confidence.py SCORE_PY GOLD_DIR PRED_DIR  ->  {"below_0.5": {"items": n, "precision": p}, ...}

A predicted item is right when the scorer matches a gold item to it. Run by tests/scores.rs.
"""

import glob
import importlib.util
import json
import os
import sys


def main():
    spec = importlib.util.spec_from_file_location("score", sys.argv[1])
    score = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(score)
    gold_dir, pred_dir = sys.argv[2], sys.argv[3]
    bands = {"below_0.5": [0, 0], "0.5_to_0.8": [0, 0], "above_0.8": [0, 0]}
    for gold_path in sorted(glob.glob(os.path.join(gold_dir, "*.json"))):
        pred_path = os.path.join(pred_dir, os.path.basename(gold_path))
        if not os.path.exists(pred_path):
            continue
        with open(gold_path, encoding="utf-8") as f:
            gold = json.load(f)
        with open(pred_path, encoding="utf-8") as f:
            pred = json.load(f)
        pairs, _ = score.match_items(gold.get("items", []), pred.get("items", []))
        matched = {id(p) for _, p in pairs if p is not None}
        for item in pred.get("items", []):
            c = item.get("confidence", 0.0)
            band = "below_0.5" if c < 0.5 else ("above_0.8" if c > 0.8 else "0.5_to_0.8")
            bands[band][0] += 1
            bands[band][1] += id(item) in matched
    print(json.dumps({k: {"items": n, "precision": (r / n if n else None)} for k, (n, r) in bands.items()}))


if __name__ == "__main__":
    main()
