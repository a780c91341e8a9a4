"Pairs and verification at sizes notebooks should not hold: properties over random identity sizes, a million pairs."
import itertools, math
import numpy as np, pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from facelab.core import FacelabError
from facelab.pairs import make_pairs
from facelab.verify import verify_pairs
from facelab.distance import pair_distances

@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=8), st.integers(0, 50), st.integers(0, 2**31))
def test_make_pairs_counts_and_sampling(sizes, k, seed):
    ids = {f"p{i}": [f"p{i}/{j}.jpg" for j in range(n)] for i, n in enumerate(sizes)}
    n_pos = sum(math.comb(n, 2) for n in sizes)
    n_neg = sum(a*b for a, b in itertools.combinations(sizes, 2))
    full = make_pairs(ids)
    assert (full.decision == 'Yes').sum() == n_pos and (full.decision == 'No').sum() == n_neg
    s = make_pairs(ids, seed=seed, max_negatives=k)
    neg = s[s.decision == 'No']
    assert len(neg) == min(k, n_neg)
    assert not neg.duplicated(['file_x', 'file_y']).any()
    assert (neg.identity_x != neg.identity_y).all()
    assert set(map(tuple, neg[['file_x', 'file_y']].values)) <= set(map(tuple, full[['file_x', 'file_y']].values))

def test_million_pairs_from_precomputed_embeddings():
    "verify_pairs scores a million pairs over 10,000 images from an embeddings table, one unreadable image included."
    rng = np.random.default_rng(0)
    n = 10_000
    files = [f"img{i}.jpg" for i in range(n)]
    emb = pd.DataFrame({'file': files[1:], 'face_idx': 0, 'embedding': list(rng.normal(size=(n-1, 128)).astype(np.float32))})
    i, j = rng.integers(0, n, (2, 1_000_000))
    pairs = pd.DataFrame({'file_x': np.array(files)[i], 'file_y': np.array(files)[j], 'decision': 'No'})
    v = verify_pairs(pairs, embeddings=emb)
    missing = (i == 0) | (j == 0)
    assert v.distance[missing].isna().all() and v.distance[~missing].notna().all()
    assert (v.error[missing] != '').all()
    E = np.stack(emb.embedding); k = np.flatnonzero(~missing)[:1000]
    np.testing.assert_allclose(v.distance.to_numpy()[k], pair_distances(E[i[k]-1], E[j[k]-1]), rtol=1e-12)

def test_refuses_to_materialise_too_many_pairs():
    ids = {f"id{i}": [f"{i}/{j}" for j in range(10)] for i in range(3000)}
    with pytest.raises(FacelabError, match='max_negatives'): make_pairs(ids)
