#!/usr/bin/env python3
"""Golden data for mlx-rs's `quantization` and `fast` modules.

Runs Python MLX 0.32.2 on the CPU with fixed seeds and writes

    mlx-rs/tests/golden/quant_cases.json   (quantization)
    mlx-rs/tests/golden/fast_cases.json    (fast ops)

which `mlx-rs/tests/quantization.rs` and `mlx-rs/tests/fast.rs` read. Every
array (inputs too) is stored exactly: as the hex of each element's raw bits
(`{"dtype", "shape", "hex"}`, fixed width per element), so the Rust tests can
compare bit for bit. Errors are stored as MLX's message text and the phase in
which MLX raised it ("build": when the op is called, "eval": when evaluated).

Usage (from the workspace root):

    /tmp/venv-mlx/bin/python scripts/golden/quant_fast.py

The script refuses to run with any other MLX version.
"""

import math
import os
import struct

import mlx.core as mx

from _common import MLX_VERSION, OUT_DIR, ROOT, encode_hex, write_json


def f32(x):
    """x rounded to float32, as a Python float (what Rust gets as f32)."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def normal(shape, seed):
    return mx.random.normal(shape, key=mx.random.key(seed))


def run(f):
    """{"ok": result} or {"err": {"phase", "message"}}."""
    try:
        r = f()
    except ValueError as e:  # raised while building the graph
        return {"err": {"phase": "build", "message": str(e)}}
    try:
        mx.eval(r)
    except RuntimeError as e:  # raised by the kernel
        return {"err": {"phase": "eval", "message": str(e)}}
    return {"ok": r}


# ---------------------------------------------------------------------------
# Quantization
# ---------------------------------------------------------------------------

def tie_row():
    """128 values whose every 32-group holds 0 and M, plus values that sit
    exactly half-way between two affine levels for each bit width (the group
    scale is M / (2^bits - 1) for every group size, since every group spans
    [0, M]). M = lcm(3, 7, 15, 31, 63, 255) * 2^-17 keeps all of them exact
    in float32."""
    m = 166005.0
    per_bits = {2: 3, 3: 7, 4: 15, 5: 31, 6: 63, 8: 255}
    row = []
    for g in range(4):
        chunk = [0.0, m]
        for i, (bits, n) in enumerate(per_bits.items()):
            step = m / n
            for k in range(5):
                level = (g * 5 + k + i) % n
                chunk.append((level + 0.5) * step)
        row.extend(chunk)
    assert len(row) == 128
    return [v * 2.0**-17 for v in row]


def quant_input():
    """(5, 128) float32: random; all negative; all positive; exact ties;
    constant."""
    rnd = normal((128,), 10)
    neg = -mx.abs(normal((128,), 11)) - 0.05
    pos = mx.abs(normal((128,), 12)) + 0.05
    ties = mx.array(tie_row(), dtype=mx.float32)
    const = mx.full((128,), 0.75)
    return mx.stack([rnd, neg, pos, ties, const])


def count_ties(w, scales, biases, group_size):
    """Elements exactly half-way between two levels (float64 arithmetic on
    the float32 values, so exact)."""
    n = 0
    for wr, sr, br in zip(w.tolist(), scales.tolist(), biases.tolist()):
        for j, v in enumerate(wr):
            t = (v - br[j // group_size]) / sr[j // group_size]
            n += abs(t - math.floor(t) - 0.5) == 0.0
    return n


def quantization():
    w = quant_input()
    out = {"inputs": {"w": encode_hex(w)}, "affine": [], "fp": [], "qmm": [],
           "gather_qmm": [], "qqmm": [], "errors": {}}

    for bits in (2, 3, 4, 5, 6, 8):
        for gs in (32, 64, 128):
            q, s, b = mx.quantize(w, group_size=gs, bits=bits, mode="affine")
            deq = mx.dequantize(q, s, b, group_size=gs, bits=bits)
            ties = count_ties(w, s, b, gs)
            assert ties > 0, (bits, gs)
            out["affine"].append({
                "bits": bits, "group_size": gs, "ties": ties,
                "weights": encode_hex(q), "scales": encode_hex(s), "biases": encode_hex(b),
                "dequantized": encode_hex(deq),
            })

    # dequantize with an explicit output dtype
    q, s, b = mx.quantize(w)
    out["dequantize_dtype"] = [
        {"mode": "affine", "dtype": "bfloat16",
         "out": encode_hex(mx.dequantize(q, s, b, dtype=mx.bfloat16))},
        {"mode": "affine", "dtype": "float16",
         "out": encode_hex(mx.dequantize(q, s, b, dtype=mx.float16))},
    ]

    # MLX's nvfp4 global scale is the tensor-level *encode* scale,
    # 448 * 6 / max|w| (dequantize multiplies by global_scale / 2688)
    gscale = f32(448.0 * 6.0 / float(mx.max(mx.abs(w)).item()))
    out["nvfp4_global_scale"] = encode_hex(mx.array(gscale, dtype=mx.float32))
    fp_modes = [("mxfp4", None), ("mxfp8", None), ("nvfp4", None),
                ("nvfp4", gscale)]
    for mode, g in fp_modes:
        gs_arr = None if g is None else mx.array(g, dtype=mx.float32)
        q, s = mx.quantize(w, mode=mode, global_scale=gs_arr)
        case = {"mode": mode, "global_scale": g is not None,
                "weights": encode_hex(q), "scales": encode_hex(s),
                # MLX's default output dtype for these modes is bfloat16
                "dequantized": encode_hex(mx.dequantize(q, s, mode=mode,
                                                 global_scale=gs_arr)),
                "dequantized_f32": encode_hex(mx.dequantize(
                    q, s, mode=mode, global_scale=gs_arr, dtype=mx.float32)),
                }
        out["fp"].append(case)

    # quantized_matmul, both orientations
    x = normal((3, 128), 20)
    xt = normal((1, 5), 21)
    out["inputs"]["x"] = encode_hex(x)
    out["inputs"]["x_t"] = encode_hex(xt)
    qmm_modes = [("affine", 4, 64, None), ("affine", 8, 32, None),
                 ("affine", 2, 128, None), ("affine", 3, 32, None),
                 ("mxfp4", None, None, None), ("mxfp8", None, None, None),
                 ("nvfp4", None, None, None)]
    # (no nvfp4 case with a global scale: quantized_matmul has no global
    # scale argument and would silently leave it out; mlx-rs rejects it)
    for mode, bits, gs, g in qmm_modes:
        gs_arr = None if g is None else mx.array(g, dtype=mx.float32)
        qs = mx.quantize(w, group_size=gs, bits=bits, mode=mode,
                         global_scale=gs_arr)
        q, s = qs[0], qs[1]
        b = qs[2] if mode == "affine" else None
        deq = mx.dequantize(q, s, b, group_size=gs, bits=bits, mode=mode,
                            global_scale=gs_arr, dtype=mx.float32)
        y = mx.quantized_matmul(x, q, s, b, transpose=True, group_size=gs,
                                bits=bits, mode=mode)
        yt = mx.quantized_matmul(xt, q, s, b, transpose=False, group_size=gs,
                                 bits=bits, mode=mode)
        out["qmm"].append({
            "mode": mode, "bits": bits, "group_size": gs,
            "out": encode_hex(y), "out_t": encode_hex(yt),
            "reference": encode_hex(x @ deq.T),
            "reference_t": encode_hex(xt @ deq),
        })

    # gather_qmm
    W = normal((3, 4, 64), 30)
    X = normal((5, 1, 64), 31)
    X2 = normal((2, 1, 64), 32)
    out["inputs"]["gather_w"] = encode_hex(W)
    out["inputs"]["gather_x"] = encode_hex(X)
    out["inputs"]["gather_x2"] = encode_hex(X2)
    rhs = mx.array([0, 2, 1, 1, 0], dtype=mx.uint32)
    rhs_sorted = mx.array([0, 0, 1, 1, 2], dtype=mx.uint32)
    lhs = mx.array([1, 0, 0, 1, 1], dtype=mx.uint32)
    for mode, bits, gs in [("affine", 4, 64), ("affine", 6, 32),
                           ("mxfp4", None, None), ("mxfp8", None, None),
                           ("nvfp4", None, None)]:
        qs = mx.quantize(W, group_size=gs, bits=bits, mode=mode)
        q, s = qs[0], qs[1]
        b = qs[2] if mode == "affine" else None
        kw = dict(group_size=gs, bits=bits, mode=mode)
        variants = {
            "rhs": mx.gather_qmm(X, q, s, b, rhs_indices=rhs, **kw),
            "rhs_sorted": mx.gather_qmm(X, q, s, b, rhs_indices=rhs_sorted,
                                        sorted_indices=True, **kw),
            "lhs_rhs": mx.gather_qmm(X2, q, s, b, lhs_indices=lhs,
                                     rhs_indices=rhs, **kw),
        }
        out["gather_qmm"].append({
            "mode": mode, "bits": bits, "group_size": gs,
            **{k: encode_hex(v) for k, v in variants.items()},
        })
    out["inputs"]["rhs"] = encode_hex(rhs)
    out["inputs"]["rhs_sorted"] = encode_hex(rhs_sorted)
    out["inputs"]["lhs"] = encode_hex(lhs)

    # qqmm: on the CPU only a single row times a pre-quantized w runs
    xv = normal((1, 128), 40)
    out["inputs"]["qqmm_x"] = encode_hex(xv)
    gx = f32(448.0 * 6.0 / float(mx.max(mx.abs(xv)).item()))
    out["qqmm_global_scale_x"] = encode_hex(mx.array(gx, dtype=mx.float32))
    for mode, g, gxx in [("mxfp4", None, None), ("mxfp8", None, None),
                         ("nvfp4", None, None), ("nvfp4", gscale, gx)]:
        gw = None if g is None else mx.array(g, dtype=mx.float32)
        gxa = None if gxx is None else mx.array(gxx, dtype=mx.float32)
        q, s = mx.quantize(w, mode=mode, global_scale=gw)
        r = run(lambda: mx.qqmm(xv, q, s, mode=mode, global_scale_x=gxa,
                                global_scale_w=gw))
        assert "ok" in r, r
        out["qqmm"].append({"mode": mode, "global_scales": g is not None,
                            "out": encode_hex(r["ok"])})

    # half-precision weights and activations (slow on the CPU at scale,
    # but these are small)
    out["half"] = []
    for dt in (mx.float16, mx.bfloat16):
        wh, xh = w.astype(dt), x.astype(dt)
        for mode in ("affine", "mxfp4"):
            qs = mx.quantize(wh, mode=mode)
            b = qs[2] if mode == "affine" else None
            case = {"dtype": str(dt).replace("mlx.core.", ""), "mode": mode,
                    "weights": encode_hex(qs[0]), "scales": encode_hex(qs[1]),
                    "dequantized": encode_hex(mx.dequantize(qs[0], qs[1], b, mode=mode)),
                    "qmm": encode_hex(mx.quantized_matmul(xh, qs[0], qs[1], b, mode=mode))}
            if b is not None:
                case["biases"] = encode_hex(b)
            out["half"].append(case)

    out["errors"] = quant_errors(w)
    return out


def quant_errors(w):
    """Every error MLX raises, by the name the Rust test uses."""
    z = lambda *shape, dtype=mx.float32: mx.zeros(shape, dtype=dtype)
    wq = z(4, 64)
    q, s, b = mx.quantize(wq)
    fq, fs = mx.quantize(wq, mode="mxfp4")
    nq, ns = mx.quantize(z(32, 64), mode="nvfp4")
    x = z(3, 64)
    one = mx.array(1.0)
    cases = {
        # quantize
        "quantize_bad_mode": lambda: mx.quantize(wq, mode="linear"),
        "quantize_bad_mode_case": lambda: mx.quantize(wq, mode="Affine"),
        "quantize_group_size_16": lambda: mx.quantize(wq, group_size=16),
        "quantize_bits_7": lambda: mx.quantize(wq, bits=7),
        "quantize_bits_1": lambda: mx.quantize(wq, bits=1),
        "quantize_last_dim": lambda: mx.quantize(z(4, 40), group_size=32),
        "quantize_1d": lambda: mx.quantize(z(64)),
        "quantize_int": lambda: mx.quantize(z(4, 64, dtype=mx.int32)),
        "quantize_mxfp4_group_64": lambda: mx.quantize(wq, mode="mxfp4", group_size=64),
        "quantize_mxfp4_bits_8": lambda: mx.quantize(wq, mode="mxfp4", bits=8),
        "quantize_mxfp8_bits_4": lambda: mx.quantize(wq, mode="mxfp8", bits=4),
        "quantize_nvfp4_group_32": lambda: mx.quantize(wq, mode="nvfp4", group_size=32),
        "quantize_global_scale_affine": lambda: mx.quantize(wq, global_scale=one),
        "quantize_global_scale_mxfp4": lambda: mx.quantize(wq, mode="mxfp4", global_scale=one),
        "quantize_global_scale_bf16": lambda: mx.quantize(
            wq, mode="nvfp4", global_scale=mx.array(1.0, dtype=mx.bfloat16)),
        "quantize_global_scale_shape": lambda: mx.quantize(
            wq, mode="nvfp4", global_scale=mx.array([1.0, 2.0])),
        # dequantize
        "dequantize_missing_biases": lambda: mx.dequantize(q, s),
        "dequantize_biases_fp": lambda: mx.dequantize(fq, fs, b[:, :1].astype(mx.uint8), mode="mxfp4"),
        "dequantize_affine_scales_for_fp": lambda: mx.dequantize(q, s, b, mode="mxfp4"),
        "dequantize_scales_shape": lambda: mx.dequantize(
            q, mx.concatenate([s, s], 1), mx.concatenate([b, b], 1)),
        "dequantize_w_dtype": lambda: mx.dequantize(q.astype(mx.int32), s, b),
        "dequantize_out_int": lambda: mx.dequantize(fq, fs, mode="mxfp4", dtype=mx.int32),
        "dequantize_1d": lambda: mx.dequantize(q.reshape(-1), s.reshape(-1), b.reshape(-1)),
        "dequantize_bad_mode": lambda: mx.dequantize(q, s, b, mode="int4"),
        "dequantize_global_scale_affine": lambda: mx.dequantize(q, s, b, global_scale=one),
        # quantized_matmul
        "qmm_shape": lambda: mx.quantized_matmul(x[:, :32], q, s, b),
        "qmm_missing_biases": lambda: mx.quantized_matmul(x, q, s),
        "qmm_biases_fp": lambda: mx.quantized_matmul(x, fq, fs, b.astype(mx.uint8), mode="mxfp4"),
        "qmm_transpose_shape": lambda: mx.quantized_matmul(x, q, s, b, transpose=False),
        # gather_qmm
        "gather_qmm_float_indices": lambda: mx.gather_qmm(
            x, q, s, b, rhs_indices=mx.zeros((3,))),
        "gather_qmm_shape": lambda: mx.gather_qmm(
            x[:, :32], q, s, b, rhs_indices=mx.zeros((3,), dtype=mx.uint32)),
        # qqmm
        "qqmm_bad_mode": lambda: mx.qqmm(z(1, 64), z(32, 64), mode="int8"),
        "qqmm_float64": lambda: mx.qqmm(z(1, 64, dtype=mx.float64), nq, ns, mode="nvfp4"),
        "qqmm_mode_mismatch": lambda: mx.qqmm(z(1, 64), nq, ns, mode="mxfp8"),
        "qqmm_one_global_scale": lambda: mx.qqmm(z(1, 64), nq, ns, mode="nvfp4",
                                                 global_scale_w=one),
        "qqmm_global_scale_mxfp8": lambda: mx.qqmm(
            z(1, 64), *mx.quantize(z(32, 64), mode="mxfp8"), mode="mxfp8",
            global_scale_x=one, global_scale_w=one),
        "qqmm_dense_cpu": lambda: mx.qqmm(z(1, 64), z(32, 64), mode="nvfp4"),
        "qqmm_rows_cpu": lambda: mx.qqmm(z(2, 64), nq, ns, mode="nvfp4"),
    }
    res = {}
    for name, f in cases.items():
        r = run(f)
        assert "err" in r, (name, r)
        res[name] = r["err"]
    return res


# ---------------------------------------------------------------------------
# Fast ops
# ---------------------------------------------------------------------------

def fast():
    out = {"inputs": {}, "sdpa": [], "norms": [], "rope": [], "errors": {}}
    B, NQ, TQ, TK, D = 1, 4, 5, 7, 8
    q = normal((B, NQ, TQ, D), 50)
    out["inputs"]["q"] = encode_hex(q)
    kv = {}
    for nkv in (4, 2, 1):
        k = normal((B, nkv, TK, D), 51 + nkv)
        v = normal((B, nkv, TK, D), 61 + nkv)
        kv[nkv] = (k, v)
        out["inputs"][f"k{nkv}"] = encode_hex(k)
        out["inputs"][f"v{nkv}"] = encode_hex(v)
    # boolean mask: random, with the diagonal kept so no row is all False
    bm = mx.random.bernoulli(0.6, (TQ, TK), key=mx.random.key(70))
    bool_mask = mx.logical_or(bm, mx.eye(TQ, TK, dtype=mx.bool_))
    add = normal((1, 1, TQ, TK), 71)
    add[0, 0, 1, 3] = -math.inf
    add[0, 0, 4, 0] = -math.inf
    add_mask = add
    sinks = normal((NQ,), 72)
    out["inputs"]["bool_mask"] = encode_hex(bool_mask)
    out["inputs"]["add_mask"] = encode_hex(add_mask)
    out["inputs"]["sinks"] = encode_hex(sinks)
    scale = f32(1.0 / math.sqrt(D))
    out["sdpa_scale"] = encode_hex(mx.array(scale, dtype=mx.float32))
    masks = {"none": None, "causal": "causal", "bool": bool_mask,
             "additive": add_mask}
    for mask_name, mask in masks.items():
        for nkv in (4, 2, 1):
            for use_sinks in (False, True):
                k, v = kv[nkv]
                o = mx.fast.scaled_dot_product_attention(
                    q, k, v, scale=scale, mask=mask,
                    sinks=sinks if use_sinks else None)
                out["sdpa"].append({"mask": mask_name, "kv_heads": nkv,
                                    "sinks": use_sinks, "out": encode_hex(o)})

    x = normal((2, 3, 8), 80)
    wt = normal((8,), 81)
    bs = normal((8,), 82)
    out["inputs"]["norm_x"] = encode_hex(x)
    out["inputs"]["norm_w"] = encode_hex(wt)
    out["inputs"]["norm_b"] = encode_hex(bs)
    eps = f32(1e-5)
    for name, f in [
        ("rms_w", lambda: mx.fast.rms_norm(x, wt, eps)),
        ("rms", lambda: mx.fast.rms_norm(x, None, eps)),
        ("ln", lambda: mx.fast.layer_norm(x, None, None, eps)),
        ("ln_w", lambda: mx.fast.layer_norm(x, wt, None, eps)),
        ("ln_b", lambda: mx.fast.layer_norm(x, None, bs, eps)),
        ("ln_wb", lambda: mx.fast.layer_norm(x, wt, bs, eps)),
    ]:
        out["norms"].append({"name": name, "out": encode_hex(f())})

    xr = normal((2, 3, 5, 8), 90)
    out["inputs"]["rope_x"] = encode_hex(xr)
    freqs = {8: mx.exp(normal((4,), 91)), 4: mx.exp(normal((2,), 92))}
    out["inputs"]["freqs8"] = encode_hex(freqs[8])
    out["inputs"]["freqs4"] = encode_hex(freqs[4])
    off_scalar = mx.array(3, dtype=mx.int32)
    off_vec = mx.array([1, 4], dtype=mx.int32)
    out["inputs"]["offset_vec"] = encode_hex(off_vec)
    i = 0
    for traditional in (False, True):
        for basis in ("base", "freqs"):
            for offset in ("int", "array_scalar", "array_vector"):
                dims = 8 if i % 2 == 0 else 4
                scale = 1.0 if i % 3 else 0.5
                off = {"int": 3, "array_scalar": off_scalar,
                       "array_vector": off_vec}[offset]
                o = mx.fast.rope(
                    xr, dims, traditional=traditional,
                    base=10000.0 if basis == "base" else None, scale=scale,
                    offset=off, freqs=freqs[dims] if basis == "freqs" else None)
                out["rope"].append({"traditional": traditional,
                                    "basis": basis, "offset": offset,
                                    "dims": dims, "scale": scale,
                                    "out": encode_hex(o)})
                i += 1

    out["errors"] = fast_errors()
    return out


def fast_errors():
    z = lambda *shape, dtype=mx.float32: mx.zeros(shape, dtype=dtype)
    sdpa = mx.fast.scaled_dot_product_attention
    q, k = z(1, 4, 5, 8), z(1, 2, 7, 8)
    x = z(2, 3, 8)
    cases = {
        "sdpa_sinks_shape": lambda: sdpa(q, k, k, scale=1.0, sinks=z(3)),
        "sdpa_gqa": lambda: sdpa(q, z(1, 3, 7, 8), z(1, 3, 7, 8), scale=1.0),
        "sdpa_rank": lambda: sdpa(q[0], k[0], k[0], scale=1.0),
        "sdpa_head_dim": lambda: sdpa(q, z(1, 2, 7, 4), k, scale=1.0),
        "sdpa_mask_shape": lambda: sdpa(q, k, k, scale=1.0, mask=z(5, 6)),
        "sdpa_force_fused_cpu": lambda: sdpa(q, k, k, scale=1.0, force_fused=True),
        "rms_weight_size": lambda: mx.fast.rms_norm(x, z(7), 1e-5),
        "rms_weight_ndim": lambda: mx.fast.rms_norm(x, z(1, 8), 1e-5),
        "ln_weight_size": lambda: mx.fast.layer_norm(x, z(7), None, 1e-5),
        "ln_bias_size": lambda: mx.fast.layer_norm(x, None, z(7), 1e-5),
        "rope_odd_dims": lambda: mx.fast.rope(x, 5, traditional=False, base=1e4, scale=1.0, offset=0),
        "rope_freqs_shape": lambda: mx.fast.rope(x, 8, traditional=False, base=None, scale=1.0, offset=0, freqs=z(3)),
        "rope_float_offset": lambda: mx.fast.rope(x, 8, traditional=False, base=1e4, scale=1.0, offset=mx.array(1.5)),
        "rope_rank": lambda: mx.fast.rope(z(8), 8, traditional=False, base=1e4, scale=1.0, offset=0),
    }
    res = {}
    for name, f in cases.items():
        r = run(f)
        assert "err" in r, (name, r)
        res[name] = r["err"]
    return res


def write(name, data):
    path = os.path.join(OUT_DIR, name)
    data = {"generator": "scripts/golden/quant_fast.py",
            "mlx_version": MLX_VERSION, "device": "cpu", **data}
    write_json(path, data, compact=True)
    print(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    write("quant_cases.json", quantization())
    write("fast_cases.json", fast())
