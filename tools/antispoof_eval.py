"""Measure the passive anti-spoofing models (MiniFASNet, tools/antispoof_to_onnx.py) in Python.

    # 1. face boxes, one JSON line per image: the original's RetinaFace (OpenCV, from a checkout
    #    of Silent-Face-Anti-Spoofing) or the product's BlazeFace (the faceproof CLI)
    python tools/antispoof_eval.py boxes --retinaface REPO_DIR LIST IMAGES_DIR > boxes.jsonl
    python tools/antispoof_eval.py boxes --faceproof target/release/faceproof LIST IMAGES_DIR > boxes.jsonl
    # 2. the BlazeFace -> RetinaFace box map (median offsets and size ratios over the images of both)
    python tools/antispoof_eval.py fit-box blazeface.jsonl retinaface.jsonl
    # 3. scores: the two crops (2.7x and 4.0x the box, 80x80) through onnxruntime
    python tools/antispoof_eval.py score MODELS_DIR boxes.jsonl IMAGES_DIR [--box-map DX,DY,SW,SH] > scores.jsonl
    # 4. APCER / BPCER (ISO/IEC 30107-3), ROC, threshold by leave-one-subject-out
    python tools/antispoof_eval.py report scores.jsonl [--bona-fide NAME=scores.jsonl ...]

LIST is a labels file (tab-separated `label file`, label live or print, header line; the
subject is the file's second path component, as in nuaa-dev: `live/0001/...`) or a directory
(every .jpg/.png under it, all bona fide, e.g. lfw-dev).

Score: the mean of the two models' softmax probability of class 1 (live), as the original's
test.py sums the two softmax vectors (and prints the sum / 2); a frame is accepted as bona fide
when score >= threshold.

Needs: numpy onnxruntime opencv-python-headless (<5 for RetinaFace: OpenCV 5 dropped the Caffe
importer).
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from antispoof_to_onnx import MODELS, RetinaFace, original_crop  # noqa: E402


def read_list(lst, images):
    if os.path.isdir(lst):
        out = []
        for root, _, files in os.walk(lst):
            for f in sorted(files):
                if f.lower().endswith((".jpg", ".png")):
                    rel = os.path.relpath(os.path.join(root, f), images)
                    out.append(("live", rel, os.path.dirname(rel).split(os.sep)[0] or "-"))
        return sorted(out, key=lambda r: r[1])
    rows = []
    with open(lst) as f:
        for n, line in enumerate(f):
            cols = line.rstrip("\n").split("\t")
            if n == 0 and cols[0] == "label":
                continue
            label, rel = cols[0], cols[1]
            rows.append((label, rel, rel.split("/")[1]))
    return rows


def cmd_boxes(a):
    import cv2
    rows = read_list(a.list, a.images)
    det = RetinaFace(a.retinaface) if a.retinaface else None
    for label, rel, subject in rows:
        path = os.path.join(a.images, rel)
        rec = {"label": label, "file": rel, "subject": subject}
        if det:
            img = cv2.imread(path)
            (x, y, w, h), conf = det.bbox(img)
            rec.update(box=[x, y, x + w, y + h], xywh=[x, y, w, h], det_score=conf)
        else:
            r = subprocess.run([a.faceproof, "embed", path, "--json", "--selection", "central", "--no-flip"],
                               capture_output=True, text=True)
            if r.returncode != 0:
                rec.update(error=r.stderr.strip())
            else:
                j = json.loads(r.stdout)
                rec.update(box=j["box"], det_score=j["score"])
        print(json.dumps(rec), flush=True)


def load_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def cmd_fit_box(a):
    bl = {r["file"]: r for r in load_jsonl(a.blazeface) if "box" in r}
    rf = {r["file"]: r for r in load_jsonl(a.retinaface) if "box" in r}
    d = []
    for k in sorted(set(bl) & set(rf)):
        b, r = np.array(bl[k]["box"], float), np.array(rf[k]["box"], float)
        bw, bh = b[2] - b[0], b[3] - b[1]
        rw, rh = r[2] - r[0], r[3] - r[1]
        bc, rc = (b[:2] + b[2:]) / 2, (r[:2] + r[2:]) / 2
        iou_w = max(0, min(b[2], r[2]) - max(b[0], r[0])) * max(0, min(b[3], r[3]) - max(b[1], r[1]))
        if iou_w / (bw * bh + rw * rh - iou_w) < 0.3:
            continue  # not the same face
        d.append([(rc[0] - bc[0]) / bw, (rc[1] - bc[1]) / bh, rw / bw, rh / bh])
    d = np.array(d)
    med = np.median(d, 0)
    q = np.percentile(d, [10, 90], 0)
    print(f"{len(d)} images with both boxes")
    for i, name in enumerate(["dx (of width)", "dy (of height)", "width ratio", "height ratio"]):
        print(f"  {name}: median {med[i]:.4f}  (10-90 %: {q[0, i]:.4f} .. {q[1, i]:.4f})")
    print("--box-map " + ",".join(f"{v:.3f}" for v in med))


def mapped_xywh(box, box_map):
    """A float [x0,y0,x1,y1] box, mapped, as the original's int [x, y, w, h]."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    if box_map:
        dx, dy, sw, sh = box_map
        cx, cy = (x0 + x1) / 2 + dx * w, (y0 + y1) / 2 + dy * h
        w, h = w * sw, h * sh
        x0, y0 = cx - w / 2, cy - h / 2
        x1, y1 = x0 + w, y0 + h
    # as the original's Detection.get_bbox: [int(left), int(top), int(right-left+1), int(bottom-top+1)]
    return [int(x0), int(y0), int(x1 - x0 + 1), int(y1 - y0 + 1)]


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def cmd_score(a):
    import cv2
    import onnxruntime as ort
    box_map = [float(v) for v in a.box_map.split(",")] if a.box_map else None
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sessions = [(scale, ort.InferenceSession(os.path.join(a.models, name), opts, providers=["CPUExecutionProvider"]))
                for _, name, scale in MODELS]
    for rec in load_jsonl(a.boxes):
        if "box" not in rec:
            print(json.dumps(rec), flush=True)
            continue
        img = cv2.imread(os.path.join(a.images, rec["file"]))
        xywh = rec["xywh"] if ("xywh" in rec and not box_map) else mapped_xywh(rec["box"], box_map)
        if xywh[2] <= 0 or xywh[3] <= 0:
            rec.update(error="empty box")
            print(json.dumps(rec), flush=True)
            continue
        probs = []
        for scale, sess in sessions:
            crop = original_crop(img, xywh, scale)  # BGR uint8, 80x80
            rgb = np.ascontiguousarray(crop[None, :, :, ::-1].astype(np.float32))
            probs.append(softmax(sess.run(None, {"input": rgb})[0][0]))
        rec.update(xywh=xywh, p=[p.tolist() for p in probs], score=float(np.mean([p[1] for p in probs])),
                   original_live=bool(np.argmax(sum(probs)) == 1))
        print(json.dumps(rec), flush=True)


# ---------------------------------------------------------------------------------------------
# ISO/IEC 30107-3 style metrics. Attack presentations: label != live. A presentation is accepted
# as bona fide when score >= t. APCER(t): attacks accepted / attacks; BPCER(t): bona fide
# rejected / bona fide.

def rates(live, attack, t):
    bpcer = float(np.mean(live < t)) if len(live) else float("nan")
    apcer = float(np.mean(attack >= t)) if len(attack) else float("nan")
    return apcer, bpcer


def threshold_for(live, attack, rule):
    """The threshold a training set gives under `rule`:
    apcer:X  the lowest threshold whose APCER <= X: just above the attack score that would be
             one too many accepted (as `faceproof spoof`'s cross-validation);
    bpcer:X  the highest threshold whose BPCER <= X (then the fewest attacks accepted);
    eer      where APCER and BPCER cross (the mean of the two nearest candidates)."""
    if rule.startswith("apcer:"):
        s = np.sort(attack)[::-1]
        allowed = int(np.floor(float(rule.split(":")[1]) * len(s)))
        return float(np.nextafter(np.float32(s[allowed]), np.float32(np.inf))) if allowed < len(s) else 0.0
    cands = np.unique(np.concatenate([live, attack, [0.0, 1.0 + 1e-9]]))
    if rule.startswith("bpcer:"):
        x = float(rule.split(":")[1])
        ok = [t for t in cands if rates(live, attack, t)[1] <= x]
        return float(max(ok))
    if rule == "eer":
        diffs = [abs(np.subtract(*rates(live, attack, t))) for t in cands]
        return float(cands[int(np.argmin(diffs))])
    raise ValueError(rule)


def roc(live, attack):
    cands = np.unique(np.concatenate([live, attack]))
    pts = [(t, *rates(live, attack, t)) for t in cands]
    # AUC of P(live score > attack score), ties half
    s = np.concatenate([live, attack])
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    ranks[order] = np.arange(1, len(s) + 1)
    for v in np.unique(s):  # average ranks of ties
        m = s == v
        ranks[m] = ranks[m].mean()
    auc = (ranks[:len(live)].sum() - len(live) * (len(live) + 1) / 2) / (len(live) * len(attack))
    return pts, float(auc)


def at_fixed(pts, which, x):
    """Best other error with `which` (apcer|bpcer) <= x."""
    if which == "bpcer":
        ok = [p for p in pts if p[2] <= x]
        return min(ok, key=lambda p: p[1]) if ok else None
    ok = [p for p in pts if p[1] <= x]
    return min(ok, key=lambda p: p[2]) if ok else None


def cmd_report(a):
    recs = load_jsonl(a.scores)
    failed = [r for r in recs if "score" not in r]
    recs = [r for r in recs if "score" in r]
    subjects = sorted({r["subject"] for r in recs})
    live = np.array([r["score"] for r in recs if r["label"] == "live"])
    attack = np.array([r["score"] for r in recs if r["label"] != "live"])
    out = {"frames": {"bona_fide": len(live), "attack": len(attack), "no_face": len(failed)},
           "subjects": subjects, "rule": a.rule}
    pts, auc = roc(live, attack)
    eer_t = threshold_for(live, attack, "eer")
    out["all_subjects"] = {
        "auc": auc,
        "eer": {"threshold": eer_t, "apcer_bpcer": rates(live, attack, eer_t)},
        "apcer_at_bpcer": {str(x): at_fixed(pts, "bpcer", x) for x in (0.01, 0.05, 0.10)},
        "bpcer_at_apcer": {str(x): at_fixed(pts, "apcer", x) for x in (0.01, 0.05, 0.10)},
        "original_rule (argmax of summed softmax == live)": {
            "apcer": float(np.mean([r["original_live"] for r in recs if r["label"] != "live"])),
            "bpcer": float(np.mean([not r["original_live"] for r in recs if r["label"] == "live"]))},
    }
    # leave-one-subject-out: threshold from the other subjects, applied to the held-out one
    held = {"live_rejected": 0, "live": 0, "attack_accepted": 0, "attack": 0}
    per_subject = {}
    for s in subjects:
        tr = [r for r in recs if r["subject"] != s]
        te = [r for r in recs if r["subject"] == s]
        t = threshold_for(np.array([r["score"] for r in tr if r["label"] == "live"]),
                          np.array([r["score"] for r in tr if r["label"] != "live"]), a.rule)
        lr = sum(r["score"] < t for r in te if r["label"] == "live")
        aa = sum(r["score"] >= t for r in te if r["label"] != "live")
        nl = sum(r["label"] == "live" for r in te)
        na = len(te) - nl
        held["live_rejected"] += lr
        held["live"] += nl
        held["attack_accepted"] += aa
        held["attack"] += na
        per_subject[s] = {"threshold": round(t, 5), "bpcer": lr / max(nl, 1), "apcer": aa / max(na, 1),
                          "live": nl, "attack": na}
    out["leave_one_subject_out"] = {
        "apcer": held["attack_accepted"] / held["attack"], "bpcer": held["live_rejected"] / held["live"],
        **held, "per_subject": per_subject,
        "apcer_max_subject": max(v["apcer"] for v in per_subject.values()),
        "bpcer_max_subject": max(v["bpcer"] for v in per_subject.values()),
    }
    t_all = threshold_for(live, attack, a.rule)
    out["threshold_all_subjects"] = t_all
    t_use = a.threshold if a.threshold is not None else t_all
    out["at_threshold"] = {"threshold": t_use, "apcer_bpcer_on_these_frames": rates(live, attack, t_use)}
    ths = sorted({round(x, 4) for x in [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, t_use]})
    out["roc_points"] = [{"threshold": t, "apcer": rates(live, attack, t)[0], "bpcer": rates(live, attack, t)[1]}
                         for t in ths]
    for spec in a.bona_fide or []:
        name, path = spec.split("=", 1)
        bf = load_jsonl(path)
        sc = np.array([r["score"] for r in bf if "score" in r])
        out.setdefault("bona_fide_sets", {})[name] = {
            "images": len(bf), "no_face": len(bf) - len(sc), "bpcer": float(np.mean(sc < t_use)),
            "rejected": int(np.sum(sc < t_use)),
            "score_quantiles": {q: float(np.quantile(sc, float(q))) for q in ("0.01", "0.05", "0.1", "0.5")},
            "original_rule_bpcer": float(np.mean([not r["original_live"] for r in bf if "score" in r])),
        }
    print(json.dumps(out, indent=1))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("boxes")
    g = b.add_mutually_exclusive_group(required=True)
    g.add_argument("--retinaface", metavar="REPO_DIR")
    g.add_argument("--faceproof", metavar="CLI")
    b.add_argument("list")
    b.add_argument("images")
    f = sub.add_parser("fit-box")
    f.add_argument("blazeface")
    f.add_argument("retinaface")
    s = sub.add_parser("score")
    s.add_argument("models")
    s.add_argument("boxes")
    s.add_argument("images")
    s.add_argument("--box-map")
    r = sub.add_parser("report")
    r.add_argument("scores")
    r.add_argument("--rule", default="apcer:0.01")
    r.add_argument("--threshold", type=float, help="report at this threshold instead of the one chosen")
    r.add_argument("--bona-fide", action="append", metavar="NAME=SCORES")
    a = p.parse_args()
    {"boxes": cmd_boxes, "fit-box": cmd_fit_box, "score": cmd_score, "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    main()
