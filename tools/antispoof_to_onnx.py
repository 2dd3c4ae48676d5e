"""Convert Silent-Face-Anti-Spoofing's MiniFASNet weights (.pth) to ONNX, without PyTorch.

    python tools/antispoof_to_onnx.py WEIGHTS.pth OUT.onnx          (needs: numpy onnx)
    python tools/antispoof_to_onnx.py --check REPO_DIR OUT_DIR      (needs: torch onnxruntime opencv)

The weights come from github:minivision-ai/Silent-Face-Anti-Spoofing (Apache-2.0), commit
b6d5f04ad78778917853b25c778acef6d5626d15, `resources/anti_spoof_models/`:

    2.7_80x80_MiniFASNetV2.pth       -> antispoof_2.7_80.onnx
    4_0_0_80x80_MiniFASNetV1SE.pth   -> antispoof_4.0_80.onnx

The network (MiniFASNet, `src/model_lib/MiniFASNet.py` of that repository, Copyright Minivision,
Apache License 2.0) is rebuilt here from the state dict's tensor names and shapes; its layers
are, in order:
    conv1 (3x3 s2) -> conv2_dw (3x3 depthwise) -> conv_23 (Depth_Wise s2) -> conv_3 (4 residual
    Depth_Wise) -> conv_34 (s2) -> conv_4 (6 residual) -> conv_45 (s2) -> conv_5 (2 residual)
    -> conv_6_sep (1x1) -> conv_6_dw (5x5 depthwise, no activation) -> linear (512 -> 128)
    -> bn (BatchNorm1d) -> prob (128 -> 3).
A Depth_Wise block is Conv_block 1x1, Conv_block 3x3 depthwise, Linear_block 1x1 (a Conv_block
is Conv + BatchNorm + PReLU, a Linear_block Conv + BatchNorm); in the SE variant the last block
of each residual stage multiplies its output by a squeeze-excitation gate (global average pool,
1x1 conv, BatchNorm, ReLU, 1x1 conv, BatchNorm, sigmoid) before the shortcut is added.

What the ONNX graph changes, none of which changes the function:
- every BatchNorm is folded into the convolution before it (eps 1e-5, eval mode);
- conv_6_dw, linear, bn and prob are all linear: they fold into one 5x5 convolution 512 -> 3
  with a bias;
- the original feeds the network OpenCV's BGR pixels in 0..255 (its ToTensor does not divide
  by 255): the first convolution's input channels are reversed, so the ONNX model takes RGB;
- the input is NHWC like the project's other models, followed by one Transpose.

Result: input `input` float32 [N,80,80,3], RGB, 0..255, the crop described in
docs/anti-spoofing.md; output `logits` float32 [N,3] (softmax gives the original's
probabilities; class 1 is a live face, 0 and 2 are attacks). Ops: Transpose, Conv, PRelu, Add,
GlobalAveragePool, Relu, Sigmoid, Mul, Flatten. Opset 13, IR 7. The output is byte-reproducible
for the same onnx version (the initializers are written in graph order).

`--check REPO_DIR OUT_DIR` compares the two ONNX files in OUT_DIR with the original PyTorch
network (imported from REPO_DIR, a checkout of the repository above at that commit) on random
inputs and on the committed portraits cropped as the original does (its own RetinaFace detector
through OpenCV), and prints the max abs difference of the softmax probabilities and logits.
"""
import collections
import os
import pickle
import struct
import sys

import numpy as np

MODELS = [
    ("2.7_80x80_MiniFASNetV2.pth", "antispoof_2.7_80.onnx", 2.7),
    ("4_0_0_80x80_MiniFASNetV1SE.pth", "antispoof_4.0_80.onnx", 4.0),
]
BN_EPS = 1e-5


# ---------------------------------------------------------------------------------------------
# A PyTorch legacy-format (.pth, torch < 1.6) state dict, read without PyTorch.

_DTYPES = {"FloatStorage": np.float32, "LongStorage": np.int64, "IntStorage": np.int32,
           "DoubleStorage": np.float64, "HalfStorage": np.float16}


def load_state_dict(path):
    """The OrderedDict of numpy arrays in a legacy torch.save file. Only the classes a plain
    state dict pickles are accepted (anything else raises)."""
    with open(path, "rb") as f:
        magic = pickle.load(f)
        if magic != 0x1950A86A20F9469CFC6C:
            raise ValueError(f"{path}: not a legacy PyTorch file")
        if pickle.load(f) != 1001:
            raise ValueError(f"{path}: unknown protocol version")
        pickle.load(f)  # sys_info
        storages = {}  # key -> (dtype, numel)

        class Lazy:
            def __init__(self, key, offset, size, stride):
                self.key, self.offset, self.size, self.stride = key, offset, tuple(size), tuple(stride)

        def rebuild(storage, offset, size, stride, *_):
            return Lazy(storage, offset, size, stride)

        class Unpickler(pickle.Unpickler):
            def find_class(self, module, name):
                if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                    return rebuild
                if (module, name) == ("collections", "OrderedDict"):
                    return collections.OrderedDict
                if module == "torch" and name in _DTYPES:
                    return name
                raise pickle.UnpicklingError(f"{path}: refusing to load {module}.{name}")

            def persistent_load(self, pid):
                kind, storage_type, key, _location, numel, view = pid
                if kind != "storage" or view is not None:
                    raise pickle.UnpicklingError(f"{path}: unsupported storage {pid!r}")
                storages[key] = (_DTYPES[storage_type], numel)
                return key

        state = Unpickler(f).load()
        keys = pickle.load(f)
        data = {}
        for key in keys:
            dtype, numel = storages[key]
            (n,) = struct.unpack("<q", f.read(8))
            if n != numel:
                raise ValueError(f"{path}: storage {key} has {n} elements, expected {numel}")
            data[key] = np.frombuffer(f.read(n * np.dtype(dtype).itemsize), dtype=dtype)
        if f.read(1):
            raise ValueError(f"{path}: trailing bytes")
    out = collections.OrderedDict()
    for name, t in state.items():
        s = data[t.key]
        itemsize = s.dtype.itemsize
        a = np.lib.stride_tricks.as_strided(s[t.offset:], shape=t.size, strides=[x * itemsize for x in t.stride])
        out[name[len("module."):] if name.startswith("module.") else name] = np.array(a)
    return out


# ---------------------------------------------------------------------------------------------
# The ONNX graph.

def bn_scale_shift(sd, prefix):
    g, b = sd[prefix + ".weight"], sd[prefix + ".bias"]
    mean, var = sd[prefix + ".running_mean"], sd[prefix + ".running_var"]
    scale = g / np.sqrt(var + BN_EPS)
    return scale, b - mean * scale


class Graph:
    def __init__(self, sd):
        from onnx import helper
        self.h = helper
        self.sd = sd
        self.used = set()
        self.nodes, self.inits = [], []

    def w(self, name):
        self.used.add(name)
        return self.sd[name].astype(np.float64)

    def const(self, name, array):
        from onnx import numpy_helper
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name))
        return name

    def node(self, op, inputs, output, **attrs):
        self.nodes.append(self.h.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def conv_bn(self, x, prefix, conv, bn, stride=1, pad=0, flip_input=False):
        """Conv (no bias) + BatchNorm folded into one Conv with a bias."""
        wt = self.w(f"{prefix}.{conv}.weight")
        scale, shift = bn_scale_shift({k: self.w(k) for k in (f"{prefix}.{bn}.{p}" for p in
                                       ("weight", "bias", "running_mean", "running_var"))}, f"{prefix}.{bn}")
        self.used.add(f"{prefix}.{bn}.num_batches_tracked")
        if flip_input:
            wt = wt[:, ::-1]
        groups = self.channels // wt.shape[1]
        k = wt.shape[2]
        out = f"{prefix}.{conv}"
        self.node("Conv", [x, self.const(out + ".w", wt * scale[:, None, None, None]), self.const(out + ".b", shift)],
                  out, kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4, group=groups)
        self.channels = wt.shape[0]
        return out

    def conv_block(self, x, prefix, stride=1, pad=0, flip_input=False):
        y = self.conv_bn(x, prefix, "conv", "bn", stride, pad, flip_input)
        alpha = self.w(prefix + ".prelu.weight").reshape(-1, 1, 1)
        return self.node("PRelu", [y, self.const(prefix + ".prelu.w", alpha)], prefix + ".prelu")

    def depth_wise(self, x, prefix, stride, residual, se):
        y = self.conv_block(x, prefix + ".conv")
        y = self.conv_block(y, prefix + ".conv_dw", stride=stride, pad=1)
        y = self.conv_bn(y, prefix + ".project", "conv", "bn")
        if not residual:
            return y
        if se:
            p = prefix + ".se_module"
            c = self.channels
            s = self.node("GlobalAveragePool", [y], p + ".avg_pool")
            s = self.conv_bn(s, p, "fc1", "bn1")
            s = self.node("Relu", [s], p + ".relu")
            s = self.conv_bn(s, p, "fc2", "bn2")
            s = self.node("Sigmoid", [s], p + ".sigmoid")
            self.channels = c
            y = self.node("Mul", [y, s], p + ".mul")
        return self.node("Add", [x, y], prefix + ".add")

    def stage(self, x, prefix, se):
        n = 1 + max(int(k.split(".")[2]) for k in self.sd if k.startswith(prefix + ".model."))
        for i in range(n):
            x = self.depth_wise(x, f"{prefix}.model.{i}", 1, True, se and i == n - 1)
        return x

    def head(self, x):
        """conv_6_dw (depthwise + BN), linear, bn (1d), prob: all linear, one Conv 512 -> 3."""
        dw = self.w("conv_6_dw.conv.weight")[:, 0]  # [512, k, k]
        s6, b6 = bn_scale_shift({k: self.w(k) for k in (f"conv_6_dw.bn.{p}" for p in
                                 ("weight", "bias", "running_mean", "running_var"))}, "conv_6_dw.bn")
        lin = self.w("linear.weight")  # [128, 512]
        s1, b1 = bn_scale_shift({k: self.w(k) for k in (f"bn.{p}" for p in
                                 ("weight", "bias", "running_mean", "running_var"))}, "bn")
        prob = self.w("prob.weight")  # [3, 128]
        self.used.update({"conv_6_dw.bn.num_batches_tracked", "bn.num_batches_tracked"})
        m = prob @ (s1[:, None] * lin)  # [3, 512]: logits = m @ e + prob @ b1, e = conv_6_dw output
        weight = m[:, :, None, None] * (s6[:, None, None] * dw)[None]  # [3, 512, k, k]
        bias = m @ b6 + prob @ b1
        k = dw.shape[1]
        y = self.node("Conv", [x, self.const("head.w", weight), self.const("head.b", bias)], "head",
                      kernel_shape=[k, k], strides=[1, 1], pads=[0] * 4, group=1)
        return self.node("Flatten", [y], "logits", axis=1)


def build(sd, name):
    from onnx import TensorProto, helper
    se = any(".se_module." in k for k in sd)
    g = Graph(sd)
    g.channels = 3
    x = g.node("Transpose", ["input"], "input_nchw", perm=[0, 3, 1, 2])
    x = g.conv_block(x, "conv1", stride=2, pad=1, flip_input=True)
    x = g.conv_block(x, "conv2_dw", stride=1, pad=1)
    x = g.depth_wise(x, "conv_23", 2, False, False)
    x = g.stage(x, "conv_3", se)
    x = g.depth_wise(x, "conv_34", 2, False, False)
    x = g.stage(x, "conv_4", se)
    x = g.depth_wise(x, "conv_45", 2, False, False)
    x = g.stage(x, "conv_5", se)
    x = g.conv_block(x, "conv_6_sep")
    g.head(x)
    unused = set(sd) - g.used
    if unused:
        raise ValueError(f"tensors not used by the graph: {sorted(unused)}")
    graph = helper.make_graph(
        g.nodes, name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 80, 80, 3])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 3])],
        g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="faceproof tools/antispoof_to_onnx.py")
    model.ir_version = 7
    return model


def convert(pth, out):
    import onnx
    model = build(load_state_dict(pth), os.path.basename(out).removesuffix(".onnx"))
    onnx.checker.check_model(model)
    onnx.save(model, out)
    ops = collections.Counter(n.op_type for n in model.graph.node)
    print(f"{out}: {os.path.getsize(out)} bytes; ops {dict(sorted(ops.items()))}")


# ---------------------------------------------------------------------------------------------
# The check against the original PyTorch network and crop.

def original_crop(img_bgr, bbox_xywh, scale, out=80):
    """src/generate_patches.py CropImage.crop of the original, verbatim in effect."""
    import cv2
    src_h, src_w = img_bgr.shape[:2]
    x, y, box_w, box_h = bbox_xywh
    scale = min((src_h - 1) / box_h, min((src_w - 1) / box_w, scale))
    new_w, new_h = box_w * scale, box_h * scale
    cx, cy = box_w / 2 + x, box_h / 2 + y
    x0, y0, x1, y1 = cx - new_w / 2, cy - new_h / 2, cx + new_w / 2, cy + new_h / 2
    if x0 < 0:
        x1 -= x0
        x0 = 0
    if y0 < 0:
        y1 -= y0
        y0 = 0
    if x1 > src_w - 1:
        x0 -= x1 - src_w + 1
        x1 = src_w - 1
    if y1 > src_h - 1:
        y0 -= y1 - src_h + 1
        y1 = src_h - 1
    x0, y0, x1, y1 = int(x0), int(y0), int(x1), int(y1)
    return cv2.resize(img_bgr[y0:y1 + 1, x0:x1 + 1], (out, out))


class RetinaFace:
    """The original's detector (src/anti_spoof_predict.py Detection.get_bbox): [x, y, w, h]."""

    def __init__(self, repo):
        import cv2
        d = os.path.join(repo, "resources", "detection_model")
        self.net = cv2.dnn.readNetFromCaffe(os.path.join(d, "deploy.prototxt"),
                                            os.path.join(d, "Widerface-RetinaFace.caffemodel"))

    def bbox(self, img):
        import math
        import cv2
        height, width = img.shape[:2]
        aspect = width / height
        if width * height >= 192 * 192:
            img = cv2.resize(img, (int(192 * math.sqrt(aspect)), int(192 / math.sqrt(aspect))),
                             interpolation=cv2.INTER_LINEAR)
        self.net.setInput(cv2.dnn.blobFromImage(img, 1, mean=(104, 117, 123)), "data")
        out = self.net.forward("detection_out").squeeze()
        i = np.argmax(out[:, 2])
        left, top, right, bottom = out[i, 3] * width, out[i, 4] * height, out[i, 5] * width, out[i, 6] * height
        return [int(left), int(top), int(right - left + 1), int(bottom - top + 1)], float(out[i, 2])


def check(repo, out_dir):
    import cv2
    import onnxruntime as ort
    import torch
    sys.path.insert(0, repo)
    from src.model_lib import MiniFASNet as M  # the original network definition

    portraits = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "portraits")
    names = sorted(n for n in os.listdir(portraits) if n.endswith(".jpg"))
    det = RetinaFace(repo)
    images = {n: cv2.imread(os.path.join(portraits, n)) for n in names}
    boxes = {n: det.bbox(images[n])[0] for n in names}
    for pth, onnx_name, scale in MODELS:
        kind = pth.split("_")[-1].removesuffix(".pth")
        net = getattr(M, kind)(conv6_kernel=(5, 5))
        sd = torch.load(os.path.join(repo, "resources", "anti_spoof_models", pth), map_location="cpu")
        net.load_state_dict({k.removeprefix("module."): v for k, v in sd.items()})
        net.eval()
        sess = ort.InferenceSession(os.path.join(out_dir, onnx_name), providers=["CPUExecutionProvider"])
        crops = [original_crop(images[n], boxes[n], scale) for n in names]
        rng = np.random.default_rng(0)
        bgr = np.concatenate([np.stack(crops).astype(np.float32),
                              rng.uniform(0, 255, (8, 80, 80, 3)).astype(np.float32)])
        with torch.no_grad():
            ref = net(torch.from_numpy(bgr.transpose(0, 3, 1, 2).copy())).numpy()
        got = sess.run(None, {"input": np.ascontiguousarray(bgr[..., ::-1])})[0]

        def softmax(z):
            e = np.exp(z - z.max(1, keepdims=True))
            return e / e.sum(1, keepdims=True)

        print(f"{onnx_name} vs PyTorch {torch.__version__} ({kind}, {len(names)} portrait crops + 8 random):")
        print(f"  max |logit diff| {np.abs(ref - got).max():.3g} (logits up to {np.abs(ref).max():.3g}); "
              f"max |probability diff| {np.abs(softmax(ref) - softmax(got)).max():.3g}")
        for n, p in zip(names, softmax(ref)[:len(names)]):
            print(f"  {n}: box {boxes[n]} live probability {p[1]:.4f}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--check":
        check(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3:
        convert(sys.argv[1], sys.argv[2])
    else:
        sys.exit(__doc__)
