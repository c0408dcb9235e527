"""Regenerates the HLO modules, inputs and JAX-computed outputs in this folder.

Run with the pinned environment (Python 3.12):
    python3.12 -m venv /tmp/venv && /tmp/venv/bin/pip install -r testdata/requirements.txt
    /tmp/venv/bin/python testdata/generate.py

For every case NAME it writes NAME.hlo (as jax.jit(...).lower(...) emits it, with
`sharding={...}` annotations for the sharded cases), NAME.in<i>.npy (the arguments) and
NAME.out<j>.npy (the flattened results JAX computed on the CPU). Building and testing pjit
never need Python; only regenerating does.
"""
import os

os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"
os.environ["JAX_PLATFORMS"] = "cpu"

import pathlib

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
from jax import lax
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

HERE = pathlib.Path(__file__).resolve().parent
rng = np.random.default_rng(20261122)
mesh = Mesh(np.array(jax.devices()).reshape(2, 4), ("data", "model"))


def normal(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def case(name, fn, args, in_specs=None, out_specs=None):
    kwargs = {}
    if in_specs is not None:
        kwargs["in_shardings"] = tuple(NamedSharding(mesh, s) for s in in_specs)
    if out_specs is not None:
        kwargs["out_shardings"] = (NamedSharding(mesh, out_specs) if isinstance(out_specs, P)
                                   else tuple(NamedSharding(mesh, s) for s in out_specs))
    jitted = jax.jit(fn, **kwargs)
    lowered = jitted.lower(*args)
    text = lowered.compiler_ir("hlo").as_hlo_text(print_large_constants=True)
    (HERE / f"{name}.hlo").write_text(text)
    for i, a in enumerate(args):
        np.save(HERE / f"{name}.in{i}.npy", np.asarray(a))
    outs = jitted(*args)
    for j, o in enumerate(jax.tree_util.tree_leaves(outs)):
        np.save(HERE / f"{name}.out{j}.npy", np.asarray(o))


def layernorm(x, g, b):
    mean = jnp.mean(x, axis=-1, keepdims=True)
    var = jnp.mean(jnp.square(x - mean), axis=-1, keepdims=True)
    return (x - mean) * lax.rsqrt(var + 1e-5) * g + b


def attention(x, wq, wk, wv, wo):
    heads = 4
    b, s, d = x.shape
    split = lambda t: t.reshape(b, s, heads, d // heads).transpose(0, 2, 1, 3)
    q, k, v = split(x @ wq), split(x @ wk), split(x @ wv)
    logits = jnp.einsum("bhqd,bhkd->bhqk", q, k) / np.sqrt(d // heads)
    mask = jnp.tril(jnp.ones((s, s), bool))
    logits = jnp.where(mask, logits, -1e9)
    out = jnp.einsum("bhqk,bhkd->bhqd", jax.nn.softmax(logits, axis=-1), v)
    return out.transpose(0, 2, 1, 3).reshape(b, s, d) @ wo


def transformer_block(x, wq, wk, wv, wo, w1, w2, g1, b1, g2, b2):
    h = x + attention(layernorm(x, g1, b1), wq, wk, wv, wo)
    return h + jax.nn.gelu(layernorm(h, g2, b2) @ w1) @ w2


def conv_block(x, k, scale, offset, mean, var):
    y = lax.conv_general_dilated(x, k, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    y = (y - mean) * lax.rsqrt(var + 1e-3) * scale + offset
    y = jax.nn.relu(y)
    return lax.reduce_window(y, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")


def main():
    d, h = 32, 64
    x = normal(8, d)
    case("mlp", lambda x, w, b: jax.nn.relu(x @ w + b), [x, normal(d, h), normal(h)])
    case("mlp_sharded", lambda x, w1, w2: jax.nn.relu(x @ w1) @ w2,
         [normal(16, d), normal(d, h), normal(h, d)],
         in_specs=(P("data", None), P(None, "model"), P("model", None)), out_specs=P("data", None))
    case("mlp_data_parallel", lambda x, w, b: jnp.tanh(x @ w + b),
         [normal(16, d), normal(d, h), normal(h)],
         in_specs=(P(("data", "model"), None), P(), P()), out_specs=P(("data", "model"), None))
    case("softmax", lambda x: jax.nn.softmax(x, axis=-1), [normal(6, 40)])
    case("layernorm", layernorm, [normal(4, 10, d), normal(d), normal(d)])
    case("attention", attention, [normal(2, 8, d)] + [normal(d, d) * 0.2 for _ in range(4)])
    block_args = ([normal(2, 8, d)] + [normal(d, d) * 0.2 for _ in range(4)] +
                  [normal(d, h) * 0.2, normal(h, d) * 0.2, normal(d), normal(d), normal(d), normal(d)])
    case("transformer_block", transformer_block, block_args)
    case("transformer_block_sharded", transformer_block, block_args,
         in_specs=(P("data", None, None), P(None, "model"), P(None, "model"), P(None, "model"),
                   P("model", None), P(None, "model"), P("model", None), P(), P(), P(), P()),
         out_specs=P("data", None, None))
    case("conv_block", conv_block,
         [normal(2, 8, 8, 3), normal(3, 3, 3, 8) * 0.3, normal(8), normal(8), normal(8),
          np.abs(normal(8)) + 0.5])
    case("depthwise_conv", lambda x, k: lax.conv_general_dilated(
        x, k, (2, 2), ((1, 1), (1, 1)), dimension_numbers=("NCHW", "OIHW", "NCHW"), feature_group_count=4),
        [normal(2, 4, 9, 9), normal(8, 1, 3, 3)])
    case("reductions", lambda x: (jnp.sum(x, axis=0), jnp.max(x, axis=(1, 2)), jnp.min(x, axis=2),
                                  jnp.argmax(x, axis=1), jnp.prod(x[:, :2, :3], axis=-1),
                                  jnp.any(x > 1.5, axis=1)), [normal(3, 5, 7)])
    case("transpose_reshape", lambda x: jnp.transpose(x.reshape(4, 6, 5), (2, 0, 1)).reshape(10, 12).T,
         [normal(24, 5)])
    case("embedding_lookup", lambda table, ids: jnp.take(table, ids, axis=0) * 2.0,
         [normal(50, 16), rng.integers(0, 50, (4, 7)).astype(np.int32)])
    case("scatter_add", lambda x, idx, v: x.at[idx].add(v),
         [normal(10, 4), np.array([1, 3, 1, 9, 0], np.int32), normal(5, 4)])
    case("concat_slice_pad", lambda a, b: jnp.pad(jnp.concatenate([a, b], axis=1)[:, 1:7:2], ((1, 2), (0, 3)),
                                                 constant_values=-1.0) + lax.rev(a, (0,)).sum(),
         [normal(4, 5), normal(4, 3)])
    case("dynamic_slice_update", lambda x, u, i, j: (lax.dynamic_slice(x, (i, j), (3, 2)),
                                                     lax.dynamic_update_slice(x, u, (j, i))),
         [normal(6, 8), normal(2, 3), np.int32(2), np.int32(7)])
    case("while_loop", lambda x, n: lax.fori_loop(0, n, lambda i, c: c * 0.9 + jnp.sin(c) + i, x),
         [normal(5, 3), np.int32(4)])
    case("conditional", lambda p, x: (lax.cond(p, lambda v: v * 2.0, lambda v: v - 1.0, x),
                                      lax.switch(jnp.int32(p) + 1, [jnp.sin, jnp.cos, jnp.exp], x)),
         [np.bool_(True), normal(3, 4)])
    case("iota_mask", lambda x: jnp.where(jnp.arange(9)[:, None] >= jnp.arange(9)[None, :], x, 0.0),
         [normal(9, 9)])
    case("mlp_bf16", lambda x, w, b: jax.nn.relu(x @ w + b),
         [normal(8, d, dtype=ml_dtypes.bfloat16), normal(d, h, dtype=ml_dtypes.bfloat16),
          normal(h, dtype=ml_dtypes.bfloat16)])
    case("elementwise_f16", lambda x, y: (x * y + x / (jnp.abs(y) + 1), jnp.exp(x), jnp.maximum(x, y)),
         [normal(4, 6, dtype=np.float16), normal(4, 6, dtype=np.float16)])
    case("elementwise_math", lambda x: (jnp.tanh(x), jax.nn.sigmoid(x), lax.erf(x), jnp.log1p(jnp.abs(x)),
                                        jnp.expm1(x), jnp.sqrt(jnp.abs(x)), lax.rsqrt(jnp.abs(x) + 1),
                                        jnp.cbrt(x), jnp.floor(x * 3), jnp.ceil(x * 3), jnp.round(x * 3),
                                        jnp.sign(x), jnp.arctan2(x, x + 0.5), jnp.power(jnp.abs(x), 1.7),
                                        jnp.cos(x), jnp.isfinite(jnp.log(x)), jnp.fmod(x, 0.3)),
         [normal(5, 7)])
    case("integer_ops", lambda a, b: (a + b * 3, a // jnp.maximum(jnp.abs(b), 1), a % 7, a >> 2, a << 3,
                                      jnp.bitwise_xor(a, b), (a > b), jnp.abs(a), -a,
                                      a.astype(jnp.float32) * 0.5, lax.shift_right_logical(a, 3),
                                      (a.astype(jnp.float32) * 1.5).astype(jnp.int8), jnp.clip(a, -20, 20)),
         [rng.integers(-100, 100, (6, 5)).astype(np.int32), rng.integers(-100, 100, (6, 5)).astype(np.int32)])
    case("sort", lambda x: (jnp.sort(x, axis=1), jnp.argsort(x, axis=0)), [normal(5, 6)])
    case("cumsum_avgpool", lambda x: (jnp.cumsum(x, axis=1),
                                      lax.reduce_window(x, 0.0, lax.add, (2, 3), (1, 2), ((0, 1), (1, 1))) / 6.0),
         [normal(4, 9)])


if __name__ == "__main__":
    main()
