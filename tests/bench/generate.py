"""Writes cases/NAME.hlo for every benchmark case, as jax.jit(f).lower(...) emits it.

    /work/venv/bin/python tests/bench/generate.py   (any Python with jax; CPU only)
"""
import os
import pathlib

os.environ["JAX_PLATFORMS"] = "cpu"

import jax

from cases import CASES, arguments

HERE = pathlib.Path(__file__).resolve().parent

for name, (fn, _, _) in CASES.items():
    text = jax.jit(fn).lower(*arguments(name)).compiler_ir("hlo").as_hlo_text()
    (HERE / "cases" / f"{name}.hlo").write_text(text)
    print(f"wrote cases/{name}.hlo")
