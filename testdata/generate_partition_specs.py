"""Writes partition_specs.txt: for meshes of 1, 2 and 3 axes and many PartitionSpecs, the HLO
sharding that JAX derives (NamedSharding(...)._to_xla_hlo_sharding), one case per line:

    <mesh>|<rank>|<spec>|<hlo sharding>

<mesh> is "data=2,model=4"; <spec> uses pjit's syntax: one entry per array dimension,
"_" for an unsplit one, "(a,b)" for several axes. Run with the venv of generate.py.
"""
import os

os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"
os.environ["JAX_PLATFORMS"] = "cpu"

import pathlib

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

MESHES = [
    (("x",), (8,)),
    (("data", "model"), (2, 4)),
    (("data", "model"), (4, 2)),
    (("a", "b", "c"), (2, 2, 2)),
    (("dp", "tp"), (8, 1)),
]


def specs_for(axes, rank):
    names = list(axes)
    entries = [None] + names + [tuple(p) for p in (names[:2], names[::-1][:2]) if len(p) == 2]
    if len(names) == 3:
        entries.append(tuple(names))
    out = set()
    for first in entries:
        for second in entries if rank > 1 else [None]:
            spec = [first, second][:rank]
            used = [a for e in spec if e for a in (e if isinstance(e, tuple) else (e,))]
            if len(used) != len(set(used)):
                continue
            out.add(tuple(spec))
    return sorted(out, key=str)


def spec_text(spec):
    parts = []
    for e in spec:
        if e is None:
            parts.append("_")
        elif isinstance(e, tuple):
            parts.append("(" + ",".join(e) + ")")
        else:
            parts.append(e)
    return ",".join(parts)


def main():
    lines = []
    devices = np.array(jax.devices())
    for axes, sizes in MESHES:
        mesh = Mesh(devices[: int(np.prod(sizes))].reshape(sizes), axes)
        mesh_text = ",".join(f"{a}={s}" for a, s in zip(axes, sizes))
        for rank in (1, 2, 3):
            for spec in specs_for(axes, min(rank, 2)):
                sharding = NamedSharding(mesh, P(*spec))._to_xla_hlo_sharding(rank)
                lines.append(f"{mesh_text}|{rank}|{spec_text(spec)}|{sharding}")
    out = pathlib.Path(__file__).resolve().parent / "partition_specs.txt"
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
