"""Identification search benchmark: `DeepFace.find` vs `facelab.search.find` over the same embeddings, and FAISS on 1M vectors.

Same vectors on both sides: each gallery is written into a DeepFace.find datastore with deepface's own writer
(`ds_model_sface_..._expand_0.npz` in a database folder, deepface 0.0.103's default format) and into a facelab `Gallery`.
The query's own embedding is excluded on both sides: DeepFace.find's face detection and query embedding are replaced by the
precomputed query embedding (the same model call facelab would make), and facelab is given the embedding directly.
DeepFace.find runs with `refresh_database=False` (no folder scan), so what is timed is: loading its datastore + the search.
Galleries are synthetic SFace-like 128-d embeddings: identities of 10 faces each around a random unit centre, at distances like
real ones (same person ~0.3, others ~1.0 cosine); queries are new faces of gallery identities.

Writes its tables into BENCHMARKS.md between the `search` markers and prints them. Timing is never asserted.

Run: .venv/bin/python benchmarks/search.py [--quick] [--no-write]
"""
import sys, time, tempfile, platform, re, resource, gc
from pathlib import Path
import numpy as np, pandas as pd
import facelab.core  # points deepface at facelab's weights, onnx engine
from deepface import DeepFace
from deepface.modules import recognition
from deepface.modules.filestore import LocalFileStore
from facelab.search import Gallery, find, ExactIndex, FaissIndex
from facelab.embed import embed_settings
from facelab.verify import default_threshold
sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import update_section

root = Path(__file__).resolve().parents[1]
QUICK = '--quick' in sys.argv
NO_WRITE = '--no-write' in sys.argv   # print only, leave BENCHMARKS.md alone
MODEL, DETECTOR = 'SFace', 'yunet'
THR = default_threshold(MODEL, 'cosine')
rng = np.random.default_rng(0)

def clustered(n, d, per_id=10, spread=0.7, seed=0):
    "n unit vectors: n/per_id identities, each a random unit centre plus noise of norm ~`spread`; and a query maker."
    r = np.random.default_rng(seed)
    centres = r.standard_normal((max(1, n//per_id), d), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    ids = np.arange(n) % len(centres)
    v = centres[ids]
    for s in range(0, n, 200_000):                 # in blocks: bounded temporary memory at 1M x 512
        blk = v[s:s+200_000]
        blk += (spread/np.sqrt(d))*r.standard_normal(blk.shape, dtype=np.float32)
        blk /= np.linalg.norm(blk, axis=1, keepdims=True)
    def queries(m, seed=1):
        rq = np.random.default_rng(seed)
        q = centres[rq.integers(0, len(centres), m)] + (spread/np.sqrt(d))*rq.standard_normal((m, d), dtype=np.float32)
        return q / np.linalg.norm(q, axis=1, keepdims=True)
    return v, ids, queries

# ---------------------------------------------------------------- DeepFace.find with the query's embedding precomputed
_query = {}
recognition.detection.extract_faces = lambda **kw: [{'face': np.zeros((112, 112, 3)), 'facial_area': dict(x=0, y=0, w=112, h=112),
                                                      'confidence': 1.0}]
recognition.representation.represent = lambda **kw: [{'embedding': _query['e']}]
IMG = np.zeros((120, 120, 3), np.uint8)

def deepface_db(v, ids, folder):
    "Write `v` as a DeepFace.find datastore in `folder` with deepface's own writer."
    reps = [dict(identity=f"{folder}/id{int(i)}_{j}.jpg", hash=f"{j:040x}", embedding=e, target_x=0, target_y=0, target_w=112, target_h=112)
            for j, (i, e) in enumerate(zip(ids, v.astype(np.float64).tolist()))]
    name = "ds_model_sface_detector_yunet_aligned_normalization_base_expand_0.npz"
    getattr(recognition, '__save_representations')(store=LocalFileStore(str(folder)), datastore_path=str(Path(folder)/name),
                                                   datastore_format='npz', representations=reps)
    return folder

def deepface_find(q, folder, return_type='pandas'):
    _query['e'] = q.astype(np.float64).tolist()
    r = DeepFace.find(IMG, str(folder), model_name=MODEL, detector_backend=DETECTOR, enforce_detection=False, silent=True,
                      refresh_database=False, return_type=return_type)
    return r[0] if return_type == 'pandas' else pd.DataFrame(r[0])

def timed(f, *a, **kw):
    t = time.perf_counter(); r = f(*a, **kw); return time.perf_counter() - t, r

def bench_vs_deepface(n, n_df, n_dict):
    "Per-query search time over an n-face gallery: DeepFace.find (pandas, dict), facelab one query at a time, facelab 100 at once."
    v, ids, queries = clustered(n, 128, seed=n)
    Q = queries(100, seed=n+1)
    folder = Path(tempfile.mkdtemp(prefix=f'dfdb{n}-')); deepface_db(v, ids, folder)
    files = [f"{folder}/id{int(i)}_{j}.jpg" for j, i in enumerate(ids)]
    g = Gallery.from_embeddings(pd.DataFrame(dict(file=files, identity=[f"id{int(i)}" for i in ids], embedding=list(v))),
                                settings=embed_settings(MODEL, DETECTOR, deepface_compat=True))
    find(Q[:1], g)                                   # builds the index once (a gallery keeps it)
    t_df, diffs, same = [], [], True
    for q in Q[:n_df]:
        t, theirs = timed(deepface_find, q, folder); t_df.append(t)
        mine = find(q[None], g).matches              # a FindResult: its table of answers
        same &= mine.file.tolist() == theirs.identity.tolist()
        if len(mine): diffs.append(float(np.abs(mine.distance.to_numpy() - theirs.distance.to_numpy()).max()))
    t_dict = [timed(deepface_find, q, folder, 'dict')[0] for q in Q[:n_dict]]
    t_one = [timed(find, q[None], g)[0] for q in Q[:100]]
    t_batch, res = timed(find, Q, g)
    answers = res.matches.groupby('query').size().mean()
    df_q = float(np.median(t_df)); one = float(np.median(t_one))
    return dict(gallery=n, answers_per_query=round(float(answers), 1), deepface_find_s=df_q, deepface_queries=n_df,
                deepface_dict_s=float(np.median(t_dict)), facelab_one_ms=one*1e3, facelab_batch100_ms=t_batch/100*1e3,
                speedup_one=df_q/one, speedup_batch=df_q/(t_batch/100), same_files=bool(same), max_abs_diff=max(diffs) if diffs else 0.0)

# ---------------------------------------------------------------- large galleries: exact numpy and FAISS
def per_query(search, Q, k=10, single=30):
    "Median seconds for one query at a time, and per query for 100 at once."
    one = float(np.median([timed(search, Q[i:i+1], k)[0] for i in range(single)]))
    t, _ = timed(search, Q[:100], k)
    return one, t/100

def bench_large(d, n_exact=100_000, n_faiss=1_000_000, nprobes=(16, 64, 256), sq8_nprobes=(128, 256)):
    rows = []
    v, _, queries = clustered(n_exact, d, seed=d)
    Q = queries(200, seed=d+1)
    ex = ExactIndex(v); one, batch = per_query(ex.search, Q)
    rows.append(dict(dims=d, gallery=n_exact, method='exact (numpy)', build_s=0.0, one_ms=one*1e3, batch100_ms=batch*1e3, recall_at_1=1.0))
    del ex, v; gc.collect()
    v, _, queries = clustered(n_faiss, d, seed=10*d)
    Q = queries(200, seed=10*d+1)
    ex = ExactIndex(v)
    one, batch = per_query(ex.search, Q, single=5)
    _, truth, _ = ex.search(Q, k=1)
    rows.append(dict(dims=d, gallery=n_faiss, method='exact (numpy)', build_s=0.0, one_ms=one*1e3, batch100_ms=batch*1e3, recall_at_1=1.0))
    del ex; gc.collect()
    nlist, mem = 1024, dict(dims=d, vectors_gb=v.nbytes/1e9)
    for codec, name, probes in [('flat', 'IVF-Flat', nprobes), ('sq8', 'IVF-SQ8 +rerank 10', sq8_nprobes)]:
        t_build, fx = timed(FaissIndex, v, nlist=nlist, nprobe=probes[0], codec=codec)
        for p in probes:
            fx.index.nprobe = p
            qi, I, _ = fx.search(Q, k=1)
            rec = float((I == truth[qi]).sum()/len(Q))
            one, batch = per_query(fx.search, Q)
            rows.append(dict(dims=d, gallery=n_faiss, method=f'FAISS {name} nlist={nlist} nprobe={p}', build_s=t_build,
                             one_ms=one*1e3, batch100_ms=batch*1e3, recall_at_1=rec))
        mem[f'{codec}_gb'] = fx.index.ntotal*(d*(4 if codec == 'flat' else 1)+8)/1e9
        del fx; gc.collect()
    del v; gc.collect()
    return rows, mem

def verdict(vs, large):
    "The issue's targets, read off this run's tables."
    out = [f"Targets: search ≥ 100× faster than DeepFace.find at 10k and above -- "
           f"{', '.join(f'{r.gallery:,}: {r.speedup_one:,.0f}× one query, {r.speedup_batch:,.0f}× batched' for r in vs[vs.gallery >= 10_000].itertuples())}."]
    ex = large[(large.method == 'exact (numpy)') & (large.gallery == 100_000)]
    out.append("Exact search on 100k under 10 ms/query -- " + ', '.join(f"{r.dims}-d: {r.one_ms:.1f} ms one query, {r.batch100_ms:.2f} ms batched" for r in ex.itertuples()) + ".")
    for d, grp in large[large.gallery >= 1_000_000].groupby('dims'):
        faiss_rows = grp[grp.method.str.startswith('FAISS')]
        good = faiss_rows[faiss_rows.recall_at_1 >= 0.99].assign(_t=lambda x: x[['one_ms', 'batch100_ms']].min(axis=1)).sort_values('_t')
        exact = grp[grp.method.str.startswith('exact')].iloc[0]
        head = f"1M × {d}-d under 50 ms/query at recall@1 ≥ 0.99 -- "
        if len(good):
            r = good.iloc[0]; met = min(r.one_ms, r.batch100_ms) < 50
            out.append(head + ("met" if met else "NOT met") + f" by FAISS {r.method.split('FAISS ')[1]}: {r.one_ms:.1f} ms one query, "
                       f"{r.batch100_ms:.1f} ms batched (recall@1 {r.recall_at_1:.3f}).")
        else:
            best = faiss_rows.sort_values('recall_at_1').iloc[-1]
            out.append(head + f"NOT met: best FAISS recall@1 {best.recall_at_1:.3f} at {best.one_ms:.1f} ms.")
        out.append(f"(Exact search on the same 1M: recall 1 at {exact.one_ms:.0f} ms one query, {exact.batch100_ms:.1f} ms batched.)")
    return ' '.join(out)

def markdown(df, fmt):
    cols = list(df.columns)
    out = ['| ' + ' | '.join(cols) + ' |', '|' + '---|'*len(cols)]
    for r in df.itertuples(index=False):
        out.append('| ' + ' | '.join('' if (isinstance(getattr(r, c), float) and np.isnan(getattr(r, c))) else fmt.get(c, '{}').format(getattr(r, c)) for c in cols) + ' |')
    return '\n'.join(out)

if __name__ == '__main__':
    T0 = time.perf_counter()
    plan = [(1_000, 20, 20), (10_000, 5, 5), (100_000, 2, 2)] if not QUICK else [(1_000, 5, 5), (10_000, 2, 2)]
    vs = pd.DataFrame([bench_vs_deepface(*p) for p in plan])
    print(vs.to_string())
    large, mems = [], []
    for d in (128, 512):
        r, m = bench_large(d, *((20_000, 100_000) if QUICK else ()))
        large += r; mems.append(m); print(pd.DataFrame(r).to_string())
    large = pd.DataFrame(large)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1e6
    m512 = next(m for m in mems if m['dims'] == 512)
    import deepface, faiss
    text = (f"Run `{' '.join(['python', 'benchmarks/search.py'] + [x for x in sys.argv[1:] if x != '--no-write'])}` on {platform.machine()}, {platform.python_version()}, "
            f"deepface {deepface.__version__}, faiss {faiss.__version__}, numpy {np.__version__}, CPU ({faiss.omp_get_max_threads()} threads), "
            f"{time.strftime('%Y-%m-%d')}, {time.perf_counter()-T0:.0f} s in all.\n\n"
            "**Search time per query vs `DeepFace.find`** (SFace-like 128-d embeddings, cosine, deepface's threshold "
            f"{THR}, all answers within it as `DeepFace.find` returns them; the query's embedding excluded on both sides):\n\n"
            + markdown(vs, {'deepface_find_s': '{:.3f}', 'deepface_dict_s': '{:.3f}', 'facelab_one_ms': '{:.2f}', 'facelab_batch100_ms': '{:.3f}',
                            'speedup_one': '{:,.0f}×', 'speedup_batch': '{:,.0f}×', 'max_abs_diff': '{:.1e}'}) + "\n\n"
            "`deepface_find_s`: median seconds of one `DeepFace.find` call (default pandas return, `refresh_database=False`) over "
            "`deepface_queries` queries -- it reloads its datastore and loops over the rows in Python on every call. `deepface_dict_s`: the "
            "same with `return_type='dict'` (deepface's vectorised path; the datastore reload remains). `facelab_one_ms`: `find` with one "
            "query, median of 100; `facelab_batch100_ms`: `find` with 100 queries at once, per query. Speedups are over `deepface_find_s`, "
            "in the same run. `same_files`/`max_abs_diff`: facelab's answers are the same files in the same order, distances within "
            "deepface's 6-decimal rounding.\n\n"
            "**Large galleries**: exact numpy search on 100k and FAISS IVF-Flat on 1M unit vectors (clustered like faces; 200 queries, "
            "`k=10`), recall@1 of FAISS against exact search on the same 1M:\n\n"
            + markdown(large, {'build_s': '{:.1f}', 'one_ms': '{:.2f}', 'batch100_ms': '{:.3f}', 'recall_at_1': '{:.3f}'}) + "\n\n"
            "`one_ms`: one query per call (median of 30); `batch100_ms`: 100 queries in one call, per query; `build_s`: IVF training + adding "
            "(the exact index needs no build). IVF-SQ8 fetches 10 candidates by 8-bit code and re-ranks them by exact distance, as "
            "`facelab.search.FaissIndex(codec='sq8')` does. The synthetic identities' spread is isotropic in all dimensions, a hard case "
            "for IVF (real embeddings are usually more clustered): recall needs many cells scanned. "
            f"**Memory of a 1M × 512 gallery**: the vectors are {m512['vectors_gb']:.2f} GB as float32 (4.1 GB as float64, as deepface stores them); "
            f"a FAISS IVF-Flat index holds its own float32 copy plus ids ({m512['flat_gb']:.2f} GB), an IVF-SQ8 index 8-bit codes plus ids "
            f"({m512['sq8_gb']:.2f} GB); facelab keeps the float32 vectors too, for the exact re-ranking, so a FAISS-searched 1M × 512 gallery "
            f"needs about {m512['vectors_gb']+m512['flat_gb']:.1f} GB (IVF-Flat) or {m512['vectors_gb']+m512['sq8_gb']:.1f} GB (IVF-SQ8), "
            f"plus its table of names and files. Peak memory of this whole run: {peak:.1f} GB.\n\n" + verdict(vs, large))
    print(text)
    if not NO_WRITE: update_section('search', 'Identification search', text)
