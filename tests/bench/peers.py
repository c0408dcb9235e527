"""Times one benchmark case in the peers, on this machine, now: JAX (the jitted function whose
lowering is cases/NAME.hlo), numpy, and PyTorch when it is installed. Prints one line per peer,
"PEER MEDIAN_MS", or "PEER -" when the peer is not available.

    python tests/bench/peers.py NAME [--devices N] [--repeat R]

--devices N runs the case data-parallel over N virtual CPU devices in JAX only (the batch, dim 0
of the first argument, split over a 1-D mesh "data"), as pjit-compile --mesh data=N does.
"""
import argparse
import os
import statistics
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("name")
parser.add_argument("--devices", type=int, default=1)
parser.add_argument("--repeat", type=int, default=10)
args = parser.parse_args()

os.environ["JAX_PLATFORMS"] = "cpu"
if args.devices > 1:
    os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={args.devices}"

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cases import CASES, arguments  # noqa: E402

fn, _, _ = CASES[args.name]
inputs = arguments(args.name)


def median_ms(run):
    run()  # warm up (and compile)
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


import jax  # noqa: E402

if args.devices > 1:
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

    mesh = Mesh(np.array(jax.devices()[: args.devices]), ("data",))
    shardings = [NamedSharding(mesh, P("data") if i == 0 else P()) for i in range(len(inputs))]
    jitted = jax.jit(fn, in_shardings=shardings, out_shardings=NamedSharding(mesh, P("data")))
    device_inputs = [jax.device_put(x, s) for x, s in zip(inputs, shardings)]
else:
    jitted = jax.jit(fn)
    device_inputs = [jax.device_put(x) for x in inputs]
print(f"jax {median_ms(lambda: jitted(*device_inputs).block_until_ready()):.3f}")
if args.devices > 1:
    sys.exit(0)

print(f"numpy {median_ms(lambda: fn(*inputs, xp=np)):.3f}")

try:
    import torch
except ImportError:
    print("torch -")
else:
    class TorchNp:  # the numpy names the cases use, on torch tensors
        maximum = staticmethod(lambda x, y: torch.clamp_min(x, y))
        exp, tanh, sqrt, square = torch.exp, torch.tanh, torch.sqrt, torch.square
        max = staticmethod(lambda x, axis, keepdims: torch.amax(x, dim=axis, keepdim=keepdims))
        sum = staticmethod(lambda x, axis, keepdims: torch.sum(x, dim=axis, keepdim=keepdims))
        mean = staticmethod(lambda x, axis, keepdims: torch.mean(x, dim=axis, keepdim=keepdims))
        transpose = staticmethod(lambda x, axes: x.permute(axes))

    tensors = [torch.from_numpy(np.asarray(x)) for x in inputs]
    torch.set_num_threads(os.cpu_count())
    with torch.inference_mode():
        print(f"torch {median_ms(lambda: fn(*tensors, xp=TorchNp)):.3f}")
