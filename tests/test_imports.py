"The package's import graph: layered, so no cycle and no upward import (DESIGN.md, 'Layers')."
import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent/'facelab'

# Lowest first. A module may import facelab modules of lower layers only (at the top or inside a function).
LAYERS = [
    ['core', 'store'],                                          # ground floor: files, images, boxes, hashes, executors, caches
    ['tables'],                                                 # the stage tables' schemas (on core's failures_frame)
    ['distance', 'metrics', 'pairs', 'annotations', 'weights'],  # pure functions on arrays and tables; weight files
    ['datasets', 'detect', 'adapt', 'plots', 'validate'],       # data, detectors, learned heads, figures, scoring against truth
    ['models', 'video', 'widgets', 'track'],                    # recognition models, videos, widgets, tracking
    ['embed', 'scale', 'slices'],                               # the embedding pipeline; the Dask executor; error rates by slice
    ['verify'],                                                 # 1:1
    ['search', 'evaluate'],                                     # 1:N search, the verification study
    ['classify', 'video_study'],                                # studies built on them
    ['synth', 'identify'],                                      # synthetic challenges, the identification study
    ['compare'],                                                # leaderboards of models × detectors, for either study
    ['cli'],                                                    # the command line, on top
]
LAYER = {m: i for i, ms in enumerate(LAYERS) for m in ms}

def facelab_imports(path:Path) -> set:
    "The facelab modules a source file imports, anywhere in it."
    out = set()
    for n in ast.walk(ast.parse(path.read_text())):
        if isinstance(n, ast.ImportFrom):
            if n.level == 1 and n.module: out.add(n.module.split('.')[0])
            elif n.level == 1: out |= {a.name for a in n.names}
            elif n.module and n.module.startswith('facelab.'): out.add(n.module.split('.')[1])
            elif n.module == 'facelab': out |= {a.name for a in n.names if (PKG/f'{a.name}.py').exists()}
        elif isinstance(n, ast.Import):
            out |= {a.name.split('.')[1] for a in n.names if a.name.startswith('facelab.')}
    return out - {path.stem}

def modules() -> list:
    return sorted(p.stem for p in PKG.glob('*.py') if not p.stem.startswith('_'))

def test_every_module_has_a_layer():
    assert not (missing := [m for m in modules() if m not in LAYER]), f"place {missing} in LAYERS (tests/test_imports.py) and DESIGN.md"

def test_no_upward_import():
    bad = [f"{m} (layer {LAYER[m]}) imports {d} (layer {LAYER.get(d)})" for m in modules() if m in LAYER
           for d in sorted(facelab_imports(PKG/f'{m}.py')) if d in LAYER and LAYER[d] >= LAYER[m]]
    assert not bad, '\n'.join(bad)

def test_no_cycle():
    graph = {m: facelab_imports(PKG/f'{m}.py') & set(modules()) for m in modules()}
    done, stack = set(), []
    def visit(m):
        if m in stack: raise AssertionError(f"import cycle: {' -> '.join(stack[stack.index(m):] + [m])}")
        if m in done: return
        stack.append(m)
        for d in sorted(graph[m]): visit(d)
        stack.pop(); done.add(m)
    for m in graph: visit(m)

def test_ground_floor_is_light():
    "The pure layers load no model stack: importing facelab.validate does not import onnxruntime, deepface or facelab.embed."
    import subprocess, sys
    code = ("import sys, facelab.validate, facelab.track, facelab.plots; "
            "print(sorted(m for m in ('facelab.embed', 'facelab.models', 'deepface', 'onnxruntime') if m in sys.modules))")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == '[]', out
