"""Identification (1:N) benchmark: `facelab.identify.score_probes` at scale, against a loop of `DeepFace.find` calls, and the study's overhead.

Three parts, in one run:

1. **Scale.** `score_probes` on 10,000 probes against 100,000 gallery faces of 10,000 identities (512-d unit vectors,
   clustered like faces: each identity a random centre, each face the centre plus noise; 70% of the probes are new faces
   of gallery identities, 30% faces of people not in the gallery). Each case runs in a fresh child process, so that its
   peak resident memory (VmHWM, reset just before the call; and the whole process's `ru_maxrss`, inputs included) is the
   call's own; tracemalloc gives the peak of numpy's allocations during the call. Exactness: on a sample of probes, the
   rank-1 identity, its distance, the nearest gallery row and the true person's rank and distance are recomputed by brute
   force in float64 numpy (every face, each person's nearest face) and compared.
2. **Against the peer.** The deepface sample split as the study splits it (`split_identities`, 2 enrolment images a
   person, a quarter of the people kept out as strangers): the enrolment images copied into a folder, which is
   `DeepFace.find`'s `db_path`; every probe image is one `DeepFace.find` call (SFace + yunet, cosine,
   `enforce_detection=False`, its datastore built by a first call and reused, as it is once built). `DeepFace.find`
   detects and embeds the query on every call, so facelab is timed both ways: scoring only (the probes' embeddings
   given), and end to end (the probe images embedded from a cold cache, then scored), one probe at a time and all at once.
   A check run embeds both sides through `DeepFace.represent` (`deepface_compat=True`): facelab's nearest gallery face
   and its distance against the first row of `DeepFace.find`'s answer.
3. **The study's overhead.** `identification_study('sample')` with a warm embedding cache (everything but embedding:
   split, folds, two templates scored, thresholds, k-fold, CMC, gallery sizes, the bootstrap of n_boot=1000) against
   embedding the same images from a cold cache (`represent`, a fresh temporary `cache_dir`), and again with n_boot=0.

Timing is never asserted. Writes its section into BENCHMARKS.md between the `identify` markers and prints it.

Run: FACELAB_DATA=/work/shared/data .venv/bin/python benchmarks/identify.py [--quick] [--no-write] [--out FILE]
"""
import argparse, json, os, platform, resource, shutil, subprocess, sys, tempfile, time, tracemalloc
from pathlib import Path
import numpy as np, pandas as pd

HERE = Path(__file__).resolve().parent
MODEL, DETECTOR, METRIC = 'SFace', 'yunet', 'cosine'

def timed(f, *a, **kw):
    "(wall seconds, CPU seconds of this process, result)."
    t, c = time.perf_counter(), time.process_time()
    r = f(*a, **kw)
    return time.perf_counter() - t, time.process_time() - c, r

def load(): return os.getloadavg()[0]

def _status(key):
    "A memory figure of this process from /proc/self/status, in bytes (NaN off Linux)."
    try:
        for line in Path('/proc/self/status').read_text().splitlines():
            if line.startswith(key + ':'): return int(line.split()[1])*1024
    except OSError: pass
    return float('nan')

# ---------------------------------------------------------------- part 1: score_probes at scale (in a child process)
def synthetic(n_probes, n_faces, n_ids, d=512, mated=0.7, spread=0.7, seed=0):
    "Unit gallery faces (n_ids identities, n_faces/n_ids faces each, rows shuffled), probes, their person codes (-1: stranger)."
    r = np.random.default_rng(seed)
    def faces(centres, who):
        v = centres[who]
        for s in range(0, len(v), 20_000):   # in blocks: bounded temporaries
            b = v[s:s+20_000]
            b += (spread/np.sqrt(d))*r.standard_normal(b.shape, dtype=np.float32)
            b /= np.linalg.norm(b, axis=1, keepdims=True)
        return v
    centres = r.standard_normal((n_ids, d), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    gid = r.permutation(np.arange(n_faces) % n_ids)
    G = faces(centres, gid)
    pid = np.where(r.random(n_probes) < mated, r.integers(0, n_ids, n_probes), -1)
    strangers = r.standard_normal((n_probes, d), dtype=np.float32)
    strangers /= np.linalg.norm(strangers, axis=1, keepdims=True)
    Q = faces(np.where((pid >= 0)[:, None], centres[np.maximum(pid, 0)], strangers), np.arange(n_probes))
    return Q, G, gid, pid

def brute_force(Q, G, gid, pid, idx):
    "Float64 numpy: for probes `idx`, each person's nearest face; rank-1 person, its distance, nearest row, true rank/distance."
    n = int(gid.max()) + 1
    Gn = (G/np.linalg.norm(G, axis=1, keepdims=True)).astype(np.float64)
    q = Q[idx].astype(np.float64)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    d = 1 - q @ Gn.T                                   # len(idx) × faces
    order = np.argsort(gid, kind='stable')
    cut = np.r_[0, np.cumsum(np.bincount(gid, minlength=n))[:-1]]
    per = np.minimum.reduceat(d[:, order], cut, axis=1)   # len(idx) × people: each person's nearest face
    top1 = per.argmin(1)
    rows = np.arange(len(idx))
    t = pid[idx]
    own = np.where(t >= 0, per[rows, np.maximum(t, 0)], np.nan)
    rank = np.where(t >= 0, (per < own[:, None]).sum(1) + 1.0, np.nan)
    return dict(top1=top1, top1_distance=per[rows, top1], top1_row=d.argmin(1), rank=rank, true_distance=own)

def score_child(n_probes, n_faces, n_ids, study_like, n_check, seed):
    "Run in a fresh process: build the inputs, time one `score_probes` call, check a sample by brute force; a dict."
    from facelab.identify import score_probes, gallery_sizes
    Q, G, gid, pid = synthetic(n_probes, n_faces, n_ids, seed=seed)
    kw = {}
    if study_like:   # as identification_study calls it: 10 folds of people, 5 draws of the gallery-size curve
        r = np.random.default_rng(seed + 1)
        kw = dict(id_folds=np.arange(n_ids) % 10, orders=[r.permutation(n_ids) for _ in range(5)], sizes=gallery_sizes(n_ids))
    rss_before = _status('VmRSS')
    try: Path('/proc/self/clear_refs').write_text('5')   # resets VmHWM (the peak) to the current RSS
    except OSError: pass
    tracemalloc.start()
    wall, cpu, sc = timed(score_probes, Q, G, gid, pid, METRIC, **kw)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    hwm = _status('VmHWM')
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss*1024
    idx = np.random.default_rng(seed + 2).choice(n_probes, min(n_check, n_probes), replace=False)
    bf = brute_force(Q, G, gid, pid, idx)
    m = pid[idx] >= 0
    check = dict(
        checked=len(idx), checked_mated=int(m.sum()),
        same_top1=int((sc.top1[idx] == bf['top1']).sum()),
        same_top1_row=int((sc.top1_row[idx] == bf['top1_row']).sum()),
        same_rank=int((sc.rank[idx][m] == bf['rank'][m]).sum()),
        max_diff_top1=float(np.abs(sc.top1_distance[idx] - bf['top1_distance']).max()),
        max_diff_true=float(np.abs(sc.true_distance[idx][m] - bf['true_distance'][m]).max()) if m.any() else 0.0,
        rank1_rate=float(np.mean(sc.rank[pid >= 0] == 1)))
    try:
        import threadpoolctl
        blas = ', '.join(f"{i['internal_api']} {i['version']}, {i['num_threads']} threads" for i in threadpoolctl.threadpool_info()
                         if i['user_api'] == 'blas' and 'numpy' in i['filepath'])   # numpy's own BLAS (opencv, scipy bring others)
    except Exception: blas = ''
    return dict(probes=n_probes, faces=n_faces, ids=n_ids, study_like=bool(study_like), wall_s=wall, cpu_s=cpu,
                inputs_gb=(Q.nbytes + G.nbytes)/1e9, rss_before_gb=rss_before/1e9, peak_rss_gb=hwm/1e9,
                peak_above_before_gb=(hwm - rss_before)/1e9, process_maxrss_gb=maxrss/1e9, traced_peak_gb=traced_peak/1e9,
                blas=blas, load=load(), **check)

def run_child(**kw):
    "`score_child` in a fresh Python process (its memory is its own); the dict it prints."
    out = subprocess.run([sys.executable, __file__, '--child', json.dumps(kw)], capture_output=True, text=True)
    if out.returncode: raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])

# ---------------------------------------------------------------- part 2: DeepFace.find loop vs facelab on a real gallery
def largest_faces(emb):
    "file -> embedding of its largest detected face (the whole image where none was detected), as the study picks."
    e = emb.assign(_d=emb.face_detected.astype(bool), _a=(emb.x2 - emb.x1)*(emb.y2 - emb.y1))
    e = e.sort_values(['file', '_d', '_a'], ascending=[True, False, False], kind='stable').drop_duplicates('file')
    return dict(zip(e.file, e.embedding))

def df_first(res):
    "DeepFace.find's answer for the query's largest face: (file, distance) of its first row, or (None, nan) when empty."
    res = [r for r in res if len(r)] if isinstance(res, list) else []
    if not res: return None, np.nan
    r = max(res, key=lambda t: float(t.source_w.iloc[0])*float(t.source_h.iloc[0]))
    return str(r.identity.iloc[0]), float(r.distance.iloc[0])

def bench_peer(tmp, quick):
    import facelab.core  # noqa: F401  points deepface at facelab's weights, onnx engine
    from deepface import DeepFace
    from deepface.modules import modeling
    from facelab.datasets import deepface_sample
    from facelab.embed import represent
    from facelab.identify import split_identities, score_probes
    split = split_identities(deepface_sample(), enrol=2, strangers=0.25, seed=0)
    db = tmp/'db'
    gal = split[split.role == 'enrol'].reset_index(drop=True)
    copies = []
    for who, f in zip(gal.identity, gal.file):
        (db/who).mkdir(parents=True, exist_ok=True)
        shutil.copy(f, db/who/Path(f).name); copies.append(str(db/who/Path(f).name))
    people = sorted(set(gal.identity))
    code = {p: i for i, p in enumerate(people)}
    gid = gal.identity.map(code).to_numpy(np.int64)
    prb = split[split.role != 'enrol'].reset_index(drop=True)
    if quick: prb = prb.iloc[::3].reset_index(drop=True)
    pfiles = prb.file.tolist()
    pid = np.array([code.get(w, -1) if r == 'mated probe' else -1 for w, r in zip(prb.identity, prb.role)], np.int64)
    P = len(pfiles)
    # models built before any timing, on both sides
    modeling.build_model(task='facial_recognition', model_name=MODEL); modeling.build_model(task='face_detector', model_name=DETECTOR)
    represent(pfiles[:1], MODEL, DETECTOR, cache_dir=None, progress=False)
    find = lambda f: DeepFace.find(f, str(db), model_name=MODEL, detector_backend=DETECTOR, distance_metric=METRIC,
                                   enforce_detection=False, silent=True)
    # DeepFace.find: the first call embeds the gallery into its datastore; the others reuse it (and check the folder for changes)
    df_build, _, _ = timed(find, pfiles[0])
    t_df, df_ans = [], []
    for f in pfiles:
        w, _, r = timed(find, f); t_df.append(w); df_ans.append(df_first(r))
    l_df = load()
    # facelab: the gallery embedded once (its cache), then the probes
    fl_build, _, (ge, _) = timed(represent, copies, MODEL, DETECTOR, cache_dir=tmp/'gcache', progress=False)
    gemb = largest_faces(ge)
    G = np.stack([gemb[f] for f in copies]).astype(np.float32)
    pe, _ = represent(pfiles, MODEL, DETECTOR, cache_dir=tmp/'pcache', progress=False)
    pemb = largest_faces(pe)
    Q = np.stack([pemb[f] for f in pfiles]).astype(np.float32)
    score = lambda q, t: score_probes(q, G, gid, t, METRIC)
    score(Q, pid)
    reps = 50
    t_all = min(timed(score, Q, pid)[0] for _ in range(reps))
    t_one = [float(np.median([timed(score, Q[i:i+1], pid[i:i+1])[0] for _ in range(5)])) for i in range(P)]
    def e2e_batch():
        c = tmp/f'cold{time.perf_counter_ns()}'
        e, _ = represent(pfiles, MODEL, DETECTOR, cache_dir=c, progress=False)
        m = largest_faces(e)
        return score(np.stack([m[f] for f in pfiles]).astype(np.float32), pid)
    e2e_all, _, _ = timed(e2e_batch)
    def e2e_one(i):
        e, _ = represent(pfiles[i:i+1], MODEL, DETECTOR, cache_dir=tmp/f'cold1-{i}-{time.perf_counter_ns()}', progress=False)
        return score(np.stack(list(largest_faces(e).values())).astype(np.float32), pid[i:i+1])
    t_e2e = [timed(e2e_one, i)[0] for i in range(P)]
    l_fl = load()
    # the check: both sides through DeepFace.represent; facelab's nearest gallery face and distance vs DeepFace.find's first row
    ce, _ = represent(copies + pfiles, MODEL, DETECTOR, deepface_compat=True, cache_dir=tmp/'ccache', progress=False)
    cm = largest_faces(ce)
    sc = score_probes(np.stack([cm[f] for f in pfiles]).astype(np.float32), np.stack([cm[f] for f in copies]).astype(np.float32),
                      gid, pid, METRIC)
    answered = [i for i, (f, _) in enumerate(df_ans) if f is not None]
    same = sum(os.path.samefile(df_ans[i][0], copies[sc.top1_row[i]]) for i in answered)
    diff = max((abs(df_ans[i][1] - sc.top1_distance[i]) for i in answered), default=0.0)
    df_med, df_mean = float(np.median(t_df)), float(np.mean(t_df))
    one, e2e1 = float(np.median(t_one)), float(np.median(t_e2e))
    rows = [
        dict(method='DeepFace.find, one call per probe', per_probe_ms=df_med*1e3, mean_ms=df_mean*1e3, vs_deepface=1.0,
             note=f'detects + embeds the probe, reloads its datastore, searches; gallery datastore built by a first call in {df_build:.1f} s'),
        dict(method='facelab score_probes, one probe per call', per_probe_ms=one*1e3, mean_ms=float(np.mean(t_one))*1e3,
             vs_deepface=df_med/one, note='embeddings given (scoring only)'),
        dict(method=f'facelab score_probes, all {P} probes in one call', per_probe_ms=t_all/P*1e3, mean_ms=t_all/P*1e3,
             vs_deepface=df_med/(t_all/P), note=f'embeddings given (scoring only); best of {reps}'),
        dict(method='facelab end to end, one probe per call', per_probe_ms=e2e1*1e3, mean_ms=float(np.mean(t_e2e))*1e3,
             vs_deepface=df_med/e2e1, note='represent (cold cache: detect + embed) + score_probes, per probe'),
        dict(method=f'facelab end to end, all {P} probes at once', per_probe_ms=e2e_all/P*1e3, mean_ms=e2e_all/P*1e3,
             vs_deepface=df_mean/(e2e_all/P), note=f'represent (cold cache, batches of 16) + score_probes; gallery embedded once in {fl_build:.1f} s'),
    ]
    info = dict(probes=P, mated=int((pid >= 0).sum()), gallery_faces=len(copies), gallery_people=len(people),
                answered=len(answered), same_nearest=int(same), max_abs_diff=float(diff), load_deepface=l_df, load_facelab=l_fl)
    return pd.DataFrame(rows), info

# ---------------------------------------------------------------- part 3: the study's overhead beyond embedding
def bench_overhead(tmp, repeats):
    from facelab.datasets import deepface_sample
    from facelab.embed import represent
    from facelab.identify import identification_study
    files = [f for fs in deepface_sample().values() for f in fs]
    represent(files[:1], MODEL, DETECTOR, cache_dir=None, progress=False)     # models built before timing
    cold = [timed(represent, files, MODEL, DETECTOR, cache_dir=tmp/f'embed{i}', progress=False)[:2] for i in range(repeats)]
    l_cold = load()
    warm_cache = tmp/'embed0'
    study = lambda nb: identification_study('sample', MODEL, DETECTOR, METRIC, n_boot=nb, cache_dir=warm_cache, progress=False)
    warm = {nb: [timed(study, nb) for _ in range(repeats)] for nb in (1000, 0)}
    l_warm = load()
    # the fastest warm study's own timings -- embed: reading the cache (hashing the images, loading their rows); score: score_probes, both templates
    s1, s0 = (min(warm[nb], key=lambda t: t[0])[2].settings['seconds'] for nb in (1000, 0))
    cold_study = timed(identification_study, 'sample', MODEL, DETECTOR, METRIC, cache_dir=tmp/'study_cold', progress=False)
    best = lambda ts: (min(t[0] for t in ts), min(t[1] for t in ts))
    (ew, ec), (w1, c1), (w0, c0) = best(cold), best(warm[1000]), best(warm[0])
    rows = [dict(run=f'embed the sample, cold cache (`represent`, {len(files)} images)', wall_s=ew, cpu_s=ec, of_embedding=1.0),
            dict(run='identification_study, warm cache, n_boot=1000 (default)', wall_s=w1, cpu_s=c1, of_embedding=w1/ew),
            dict(run='identification_study, warm cache, n_boot=0', wall_s=w0, cpu_s=c0, of_embedding=w0/ew),
            dict(run='identification_study, cold cache, n_boot=1000 (for reference)', wall_s=cold_study[0], cpu_s=cold_study[1],
                 of_embedding=cold_study[0]/ew)]
    return pd.DataFrame(rows), dict(images=len(files), cache_read_s=s1['embed'], score_s=s1['score'], boot_s=w1 - w0,
                                    rest_s=w0 - s0['embed'] - s0['score'], cpu_ratio=c1/ec, load_cold=l_cold, load_warm=l_warm,
                                    cold_study_embed_s=cold_study[2].settings['seconds']['embed'])

# ---------------------------------------------------------------- report
def markdown(df, fmt):
    cols = list(df.columns)
    out = ['| ' + ' | '.join(cols) + ' |', '|' + '---|'*len(cols)]
    for r in df.itertuples(index=False):
        out.append('| ' + ' | '.join(fmt.get(c, '{}').format(getattr(r, c)) for c in cols) + ' |')
    return '\n'.join(out)

def report(scale, peer, pinfo, over, oinfo, cmd, seconds):
    import deepface, onnxruntime
    main = scale[scale.study_like].iloc[0] if scale.study_like.any() else scale.iloc[0]
    tab1 = scale.assign(call=np.where(scale.study_like, 'as the study calls it (10 folds, 5 gallery-size draws)', 'plain'),
                        exact=[f"{r.same_top1}/{r.checked} top-1, {r.same_top1_row}/{r.checked} row, {r.same_rank}/{r.checked_mated} rank"
                               for r in scale.itertuples()],
                        max_abs_diff=np.maximum(scale.max_diff_top1, scale.max_diff_true))
    tab1 = tab1[['probes', 'faces', 'ids', 'call', 'wall_s', 'cpu_s', 'peak_above_before_gb', 'traced_peak_gb', 'process_maxrss_gb',
                 'exact', 'max_abs_diff', 'load']]
    ok_t, ok_m = scale.wall_s.max() <= 30, scale.process_maxrss_gb.max() <= 4
    exact = bool((scale.same_top1 == scale.checked).all() and (scale.same_top1_row == scale.checked).all()
                 and (scale.same_rank == scale.checked_mated).all() and (np.maximum(scale.max_diff_top1, scale.max_diff_true) < 1e-5).all())
    full = main.probes >= 10_000 and main.faces >= 100_000
    under = over.of_embedding.iloc[1] < 0.10
    dominant = max([('the bootstrap (n_boot=1000)', oinfo['boot_s']), ('scoring (score_probes, both templates)', oinfo['score_s']),
                    ('reading the embedding cache', oinfo['cache_read_s']), ('the rest (split, tables, thresholds, k-fold, CMC, gallery sizes)', oinfo['rest_s'])],
                   key=lambda t: t[1])
    text = (
        f"Run `{cmd}` on {platform.machine()}, {os.cpu_count()} CPUs shared with other jobs, Python {platform.python_version()}, "
        f"numpy {np.__version__} ({main.blas}), deepface {deepface.__version__}, onnxruntime {onnxruntime.__version__}, "
        f"{MODEL} + {DETECTOR}, {METRIC}, {time.strftime('%Y-%m-%d %H:%M')}, {seconds:.0f} s in all. `load`: the 1-minute load "
        "average after the row (2 CPUs: above 2, other work was competing for them, so wall times are upper bounds; CPU times "
        "are this process's own).\n\n"
        f"**Scale: `score_probes`, {main.probes:,} probes × {main.faces:,} gallery faces of {main.ids:,} identities, 512-d** "
        "(synthetic unit vectors clustered like faces; 70% of the probes mated, each case in a fresh process):\n\n"
        + markdown(tab1, {'probes': '{:,}', 'faces': '{:,}', 'ids': '{:,}', 'wall_s': '{:.1f}', 'cpu_s': '{:.1f}',
                          'peak_above_before_gb': '{:.2f}', 'traced_peak_gb': '{:.2f}', 'process_maxrss_gb': '{:.2f}',
                          'max_abs_diff': '{:.1e}', 'load': '{:.1f}'}) + "\n\n"
        "`wall_s`/`cpu_s`: one `score_probes` call (float32 BLAS in blocks of `chunk_floats` = 2²⁷ scores; every probe against "
        "every face: each person's nearest face, the rank of the true person, the nearest person and face, and the nearest of "
        "each fold and gallery-size draw for the *study* row). `peak_above_before_gb`: peak resident memory during the call "
        "above the resident memory just before it (inputs already built); `traced_peak_gb`: tracemalloc's peak of the "
        "allocations during the call; `process_maxrss_gb`: the child process's peak resident memory, inputs "
        f"({main.inputs_gb:.2f} GB), Python and facelab included. `exact`: on {main.checked} probes drawn at random, brute-force "
        "float64 numpy (1 − cosine to every face, each person's nearest) gives the same rank-1 identity, the same nearest gallery "
        f"row and, for the {main.checked_mated} mated ones, the same rank of the true person; `max_abs_diff`: the largest "
        "difference of the rank-1 and true-person distances (float32 scoring against float64).\n\n"
        f"Target: exact, ≤ 30 s and ≤ 4 GB on this machine -- "
        + (f"exact on every probe checked: {'yes' if exact else 'NO'}; memory {'met' if ok_m else 'NOT met'}: "
           f"{main.process_maxrss_gb:.2f} GB peak for the whole process; time {'met' if ok_t else 'NOT met'} on the wall clock: "
           + ', '.join(f"{r.wall_s:.1f} s {'as the study calls it' if r.study_like else 'plain'} (load {r.load:.1f}, {r.cpu_s:.1f} s CPU)"
                       for r in scale.itertuples()) + "."
           + (f" The call's own CPU time is under 30 s: with the 2 cores to itself it would take about {main.cpu_s/2:.0f}-{main.cpu_s:.0f} s "
              "(both BLAS threads busy throughout, or one core), so the wall time over 30 s is the other jobs' share of the cores."
              if scale.cpu_s.max() <= 30 and not ok_t else '')
           if full else
           "not measured at full size in this run (`--quick`).")
        + " FAISS is not used by `score_probes`: every score is exact. For galleries past what exact BLAS scoring "
        "can hold, approximate search (`facelab.search.FaissIndex`, IVF-Flat or IVF-SQ8 with exact re-ranking) and its "
        "recall@1 against exact search, measured by `benchmarks/search.py`, are in *Identification search* above.\n\n"
        f"**Against a `DeepFace.find` loop on the same gallery** (the deepface sample split as the study splits it: "
        f"{pinfo['gallery_faces']} enrolment faces of {pinfo['gallery_people']} people, {pinfo['probes']} probe images, "
        f"{pinfo['mated']} of them mated; load {pinfo['load_deepface']:.1f} after the deepface loop, {pinfo['load_facelab']:.1f} "
        "after facelab's):\n\n"
        + markdown(peer, {'per_probe_ms': '{:,.2f}', 'mean_ms': '{:,.2f}', 'vs_deepface': '{:,.1f}×'}) + "\n\n"
        "`per_probe_ms`: median per probe (for a whole batch: its time ÷ probes); `mean_ms`: the mean. `vs_deepface`: "
        "`DeepFace.find`'s median per probe over the row's (the batch end-to-end row: its mean, as both are totals). "
        "`DeepFace.find` detects and embeds every query image on every call, so the scoring-only rows measure the search "
        "(what replaces the loop when the study already holds every probe's embedding), and the end-to-end rows, embedding each "
        "probe image from a cold cache, are the like-for-like comparison. Check (both sides embedded through `DeepFace.represent`, "
        f"`deepface_compat=True`): of the {pinfo['answered']} probes where `DeepFace.find` returned a face within its threshold, "
        f"facelab's nearest gallery face is the same file for {pinfo['same_nearest']}, distances within {pinfo['max_abs_diff']:.1e} "
        "(deepface rounds to 6 decimals).\n\n"
        f"**The study's overhead beyond embedding** (`identification_study('sample')`, {oinfo['images']} images; each row the best "
        f"of its repeats; load {oinfo['load_cold']:.1f} after the cold embedding, {oinfo['load_warm']:.1f} after the warm studies):\n\n"
        + markdown(over, {'wall_s': '{:.2f}', 'cpu_s': '{:.2f}', 'of_embedding': '{:.1%}'}) + "\n\n"
        f"`of_embedding`: the row's wall time over embedding's. In the default warm study: reading the cache "
        f"{oinfo['cache_read_s']:.2f} s, scoring both templates {oinfo['score_s']:.2f} s, the bootstrap (n_boot=1000 − n_boot=0) "
        f"{oinfo['boot_s']:.2f} s, the rest (split, folds, tables, thresholds, k-fold, CMC, gallery sizes; from the n_boot=0 run) {oinfo['rest_s']:.2f} s. "
        f"The cold study spent {oinfo['cold_study_embed_s']:.2f} s of its {over.wall_s.iloc[3]:.2f} s embedding (its own embedding ran "
        "at that moment's load; the cold rows are single runs, so compare them to each other only roughly). Target: overhead under 10% of embedding -- "
        + (f"met: {over.of_embedding.iloc[1]:.1%} wall ({oinfo['cpu_ratio']:.1%} CPU)." if under else
           f"NOT met with the default n_boot=1000: {over.of_embedding.iloc[1]:.1%} wall ({oinfo['cpu_ratio']:.1%} CPU); "
           f"what dominates is {dominant[0]} ({dominant[1]:.2f} s). With n_boot=0: {over.of_embedding.iloc[2]:.1%}."))
    pr = peer.set_index(peer.method.str.split(',').str[0] + peer.method.str.contains('one probe').map({True: ' one', False: ' all'}))
    one, e1, ea = pr.loc['facelab score_probes one'], pr.loc['facelab end to end one'], pr.loc['facelab end to end all']
    text += ("\n\n**Reading it.** Scoring is matrix work: every probe against every face of a 100,000-face gallery costs "
             f"{main.wall_s/main.probes*1e3:.1f} ms a probe with all {main.probes:,} probes in one call, and one probe against the "
             f"sample's gallery {one.per_probe_ms:.2f} ms -- against {e1.per_probe_ms:.0f} ms for the same probe end to end. What costs is a probe's "
             "detection and embedding, on both sides: one probe at a time, end to end, facelab takes "
             f"{1/e1.vs_deepface:.2f}× `DeepFace.find`'s time per probe (both run a detector and the same recognition model on "
             "the image, so the ratio is set by the models, not the search, and moves with the shared machine's load; facelab's cold cache also writes "
             f"each embedding); embedding all the probes at once (batches of 16), {1/ea.vs_deepface:.2f}×. The study, which holds every probe's embedding, replaces the loop by the "
             f"scoring rows: {one.vs_deepface:,.0f}× one probe per call, {pr.loc['facelab score_probes all'].vs_deepface:,.0f}× "
             "all in one call, with the same nearest faces and distances as `DeepFace.find` where both embed alike.")
    return text

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true', help='2,000 probes × 20,000 faces, a third of the sample probes, 1 repeat')
    ap.add_argument('--no-write', action='store_true', help='print only, leave BENCHMARKS.md alone')
    ap.add_argument('--out', help='write the section to this file instead of BENCHMARKS.md')
    ap.add_argument('--child', help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(score_child(**json.loads(a.child)))); return
    T0 = time.perf_counter()
    size = dict(n_probes=2_000, n_faces=20_000, n_ids=2_000) if a.quick else dict(n_probes=10_000, n_faces=100_000, n_ids=10_000)
    scale = pd.DataFrame([run_child(**size, study_like=s, n_check=200, seed=0) for s in (False, True)])
    print(scale.to_string(), flush=True)
    tmp = Path(tempfile.mkdtemp(prefix='facelab-identify-bench-'))
    try:
        peer, pinfo = bench_peer(tmp, a.quick)
        print(peer.to_string(), pinfo, sep='\n', flush=True)
        over, oinfo = bench_overhead(tmp, 1 if a.quick else 2)
        print(over.to_string(), oinfo, sep='\n', flush=True)
    finally: shutil.rmtree(tmp, ignore_errors=True)
    shown = [x for x in sys.argv[1:] if x in ('--quick',)]   # where the section goes is not part of the run
    cmd = ' '.join(['FACELAB_DATA=... .venv/bin/python', 'benchmarks/identify.py'] + shown)
    text = report(scale, peer, pinfo, over, oinfo, cmd, time.perf_counter() - T0)
    print(text)
    if a.out: Path(a.out).write_text(text + '\n')
    elif not a.no_write:
        sys.path.insert(0, str(HERE))
        from report import update_section
        update_section('identify', 'Identification (1:N) scoring', text)

if __name__ == '__main__': main()
