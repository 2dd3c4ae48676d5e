"""Build the shipped (web) models in models/web/ from the float32 originals in models/.

    python tools/web_models.py models models/web [FILE...]   (needs: onnx numpy; onnxruntime to check)

1. MobileFaceNet: tflite2onnx expanded every PReLU into Relu, Abs, Sub, Reshape, Mul, Add
   (y = relu(x) + c * (x - |x|), c = alpha/2). Fold each back into one PRelu(x, 2c): the same
   function, a third of the network's run time in elementwise ops saved.
2. Smaller weights, as ../shared/models/tools/quantize_weights.py does (measured there and in
   docs/accuracy.md): Conv weights int8 per output channel (DequantizeLinear), other float tensors
   fp16 (+ Cast) for MobileFaceNet and FaceMesh; fp16 weights for the two BlazeFace detectors.
   rten folds DequantizeLinear/Cast of constants at load time; MobileFaceNet's 1x1 convolutions
   whose weights are int8 then run in int8 (rten patch 5, third_party/rten/PATCHES.md).
3. MobileFaceNet's four 1x1 convolutions most sensitive to int8 activations keep float (fp16)
   weights, so they run in float32: the first one, and the projections of the three blocks
   without a residual connection (the first block of each stage after the first), whose output
   is the whole signal rather than a correction added to it. Measured without labels (mean
   1 - cosine to the float32 embedding over 300 lfw-dev images with only that layer in int8):
   3.9e-5, 2.6e-5, 3.3e-5, 1.9e-5; the next is 8.8e-6, the median 2.7e-6 (docs/performance.md).
4. The two anti-spoofing models (MiniFASNet, tools/antispoof_to_onnx.py): int8 Conv weights,
   the rest fp16, as for FaceMesh. Measured on nuaa-dev and lfw-dev in docs/anti-spoofing.md.
5. Check each result against the original with onnxruntime on random inputs.
"""
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "shared", "models", "tools"))


def fold_prelu(m):
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    prod = {o: n for n in g.node for o in n.output}
    users = {}
    for n in g.node:
        for i in n.input:
            users.setdefault(i, []).append(n)
    remove, add = set(), []
    for add_node in [n for n in g.node if n.op_type == "Add"]:
        a, b = (prod.get(i) for i in add_node.input)
        if not (a and b and a.op_type == "Relu" and b.op_type == "Mul"):
            continue
        relu, mul = a, b
        x = relu.input[0]
        reshape = next((prod.get(i) for i in mul.input if prod.get(i) is not None and prod[i].op_type == "Reshape"), None)
        sub = next((prod.get(i) for i in mul.input if prod.get(i) is not None and prod[i].op_type == "Sub"), None)
        if reshape is None or sub is None or sub.input[0] != x:
            continue
        absn = prod.get(sub.input[1])
        if absn is None or absn.op_type != "Abs" or absn.input[0] != x:
            continue
        c = numpy_helper.to_array(inits[reshape.input[0]]).astype(np.float32)
        slope = (2.0 * c).reshape(-1, 1, 1).astype(np.float32)  # [C,1,1] broadcast over NCHW
        name = add_node.output[0] + "__prelu_slope"
        g.initializer.append(numpy_helper.from_array(slope, name))
        add.append((add_node, helper.make_node("PRelu", [x, name], [add_node.output[0]], name=add_node.output[0] + "__prelu")))
        remove.update(id(n) for n in (relu, absn, sub, reshape, mul, add_node))
    nodes = []
    for n in g.node:
        for old, new in add:
            if n is old:
                nodes.append(new)
        if id(n) not in remove:
            nodes.append(n)
    del g.node[:]
    g.node.extend(nodes)
    used = {i for n in g.node for i in n.input}
    keep = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    return m, len(add)


# Step 3: the 1x1 convolutions (ONNX node names) that keep float weights.
MOBILEFACENET_FLOAT_1X1 = [
    "MobileFaceNet/MobileFaceNet/Conv/BatchNorm/FusedBatchNorm",
    "MobileFaceNet/MobileFaceNet/Conv2d_2_InvResBlock_0/Conv_1/BatchNorm/FusedBatchNorm",
    "MobileFaceNet/MobileFaceNet/Conv2d_3_InvResBlock_0/Conv_1/BatchNorm/FusedBatchNorm",
    "MobileFaceNet/MobileFaceNet/Conv2d_5_InvResBlock_0/Conv_1/BatchNorm/FusedBatchNorm",
]


def keep_float_weights(m, float_model, conv_names):
    """Undo the int8 quantization of the named Convs' weights: their DequantizeLinear node and
    its inputs go, the float32 tensor from `float_model` comes back (fp16_weights stores it fp16)."""
    g = m.graph
    floats = {t.name: t for t in float_model.graph.initializer}
    convs = {n.name: n for n in g.node if n.op_type == "Conv"}
    missing = [c for c in conv_names if c not in convs]
    assert not missing, f"no such Conv: {missing}"
    weights = {convs[c].input[1] for c in conv_names}
    dqs = [n for n in g.node if n.op_type == "DequantizeLinear" and n.output[0] in weights]
    assert len(dqs) == len(weights)
    drop = {i for n in dqs for i in n.input}
    keep_nodes = [n for n in g.node if n not in dqs]
    del g.node[:]
    g.node.extend(keep_nodes)
    inits = [t for t in g.initializer if t.name not in drop] + [floats[w] for w in sorted(weights)]
    del g.initializer[:]
    g.initializer.extend(inits)
    return m


def check(orig_path, new_path, shape, scale=1.0):
    try:
        import onnxruntime as ort
    except ImportError:
        print("  (onnxruntime not installed: numeric check skipped)")
        return
    a = ort.InferenceSession(orig_path, providers=["CPUExecutionProvider"])
    b = ort.InferenceSession(new_path, providers=["CPUExecutionProvider"])
    x = (scale * np.random.default_rng(0).uniform(-1, 1, shape)).astype(np.float32)
    name = a.get_inputs()[0].name
    ya, yb = a.run(None, {name: x}), b.run(None, {name: x})
    diff = max(float(np.abs(p - q).max()) for p, q in zip(ya, yb))
    scale = max(float(np.abs(p).max()) for p in ya)
    print(f"  max |diff| vs float32 original: {diff:.3g} (outputs up to {scale:.3g})")


def main(src, dst):
    import quantize_weights as qw  # ../shared/models/tools/quantize_weights.py
    os.makedirs(dst, exist_ok=True)
    jobs = [
        ("mobilefacenet_192.onnx", "int8", [2, 112, 112, 3]),
        ("facemesh_468.onnx", "int8", [1, 192, 192, 3]),
        ("blazeface_front_128.onnx", "fp16", [1, 128, 128, 3]),
        ("blazeface_back_256.onnx", "fp16", [1, 256, 256, 3]),
        ("antispoof_2.7_80.onnx", "int8", [1, 80, 80, 3]),
        ("antispoof_4.0_80.onnx", "int8", [1, 80, 80, 3]),
    ]
    only = sys.argv[3:]  # optional: the file names to build (default: all)
    for name, kind, shape in jobs:
        if only and name not in only:
            continue
        m = onnx.load(os.path.join(src, name))
        if name.startswith("mobilefacenet"):
            m, n = fold_prelu(m)
            print(f"{name}: folded {n} expanded PReLUs")
        if kind == "int8":
            from onnx import version_converter
            m = version_converter.convert_version(m, 13)
            float_model = onnx.ModelProto()
            float_model.CopyFrom(m)
            m, _ = qw.int8_conv_weights(m)
            if name.startswith("mobilefacenet"):
                m = keep_float_weights(m, float_model, MOBILEFACENET_FLOAT_1X1)
                print(f"{name}: {len(MOBILEFACENET_FLOAT_1X1)} 1x1 convolutions keep float weights")
            m = qw.fp16_weights(m)
        else:
            m = qw.fp16_weights(m)
        onnx.checker.check_model(m)
        out = os.path.join(dst, name)
        onnx.save(m, out)
        print(f"{name}: {kind} weights, {os.path.getsize(out)} bytes")
        # the anti-spoofing models take pixels in 0..255, the others -1..1
        check(os.path.join(src, name), out, shape, 127.5 if name.startswith("antispoof") else 1.0)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
