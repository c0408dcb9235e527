"""The benchmark cases of issue 9, as JAX functions with their argument shapes: generate.py
lowers them to the HLO that pjit compiles, peers.py times the same functions in JAX (jitted:
the anchor pjit must beat), numpy and, when installed, PyTorch."""
import numpy as np

F32 = np.float32


def relu(x, xp):
    return xp.maximum(x, 0)


def mlp(x, w1, b1, w2, b2, w3, b3, xp=None):
    import jax.numpy as jnp
    xp = xp or jnp
    h = relu(x @ w1 + b1, xp)
    h = relu(h @ w2 + b2, xp)
    return h @ w3 + b3


def softmax(x, xp=None):
    import jax.numpy as jnp
    xp = xp or jnp
    e = xp.exp(x - xp.max(x, axis=-1, keepdims=True))
    return e / xp.sum(e, axis=-1, keepdims=True)


def layernorm(x, g, b, xp=None):
    import jax.numpy as jnp
    xp = xp or jnp
    mean = xp.mean(x, axis=-1, keepdims=True)
    var = xp.mean(xp.square(x - mean), axis=-1, keepdims=True)
    return (x - mean) / xp.sqrt(var + F32(1e-5)) * g + b


def chain(x, a, b, c, xp=None):
    import jax.numpy as jnp
    xp = xp or jnp
    return xp.tanh(x * a + b) * c


def matmul(a, b, xp=None):
    return a @ b


def encoder(x, wq, wk, wv, wo, g1, b1, w1, c1, w2, c2, g2, b2, xp=None):
    import jax.numpy as jnp
    xp = xp or jnp
    batch, seq, d = x.shape
    heads = 8
    hd = d // heads

    def split(t):
        return xp.transpose(t.reshape(batch, seq, heads, hd), (0, 2, 1, 3))

    q, k, v = split(x @ wq), split(x @ wk), split(x @ wv)
    s = (q @ xp.transpose(k, (0, 1, 3, 2))) / F32(np.sqrt(hd))
    a = softmax(s, xp) @ v
    a = xp.transpose(a, (0, 2, 1, 3)).reshape(batch, seq, d) @ wo
    h = layernorm(x + a, g1, b1, xp)
    f = relu(h @ w1 + c1, xp) @ w2 + c2
    return layernorm(h + f, g2, b2, xp)


# name: (function, argument shapes, one-line description)
CASES = {
    "mlp": (mlp, [(256, 784), (784, 2048), (2048,), (2048, 2048), (2048,), (2048, 10), (10,)],
            "MLP forward, batch 256, 784-2048-2048-10, ReLU"),
    "encoder": (encoder, [(8, 128, 512), (512, 512), (512, 512), (512, 512), (512, 512), (512,), (512,), (512, 2048),
                          (2048,), (2048, 512), (512,), (512,), (512,)],
                "transformer encoder layer, d 512, 8 heads, ff 2048, batch 8, seq 128"),
    "chain": (chain, [(16 * 1024 * 1024,), (), (), ()], "tanh(x*a+b)*c over 16M floats"),
    "softmax": (softmax, [(8192, 1024)], "softmax over [8192,1024]"),
    "layernorm": (layernorm, [(8192, 1024), (1024,), (1024,)], "layernorm over [8192,1024]"),
    "matmul": (matmul, [(2048, 2048), (2048, 2048)], "matmul 2048^3"),
}


def arguments(name, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(F32) * F32(0.05) for s in CASES[name][1]]
