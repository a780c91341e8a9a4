"""Round trips of the annotation writers, on random input: reading a written file gives the table back.

`nbs/09_annotations.ipynb` shows each writer on hand-made cases; here hypothesis draws many: CVAT-for-video files with tracks,
keyframes, interpolated boxes, `outside` boxes, a task start and step (read, written, read again: the same table), ground-truth
tables with annotated frames that have no boxes, image tables with images that have no boxes, and MOT tables. Each time the
`GT_COLS`, the `attr_*` columns and `annotated_frames` must come back unchanged. The number of examples per property comes from
`FACELAB_FUZZ_EXAMPLES`, like the fuzz tests.
"""
import os, tempfile, warnings
from pathlib import Path
from xml.sax.saxutils import quoteattr, escape
import numpy as np, pandas as pd
from hypothesis import given, settings, HealthCheck, strategies as st
from facelab.annotations import (GT_COLS, GroundTruth, annotated_frames, read_cvat, read_cvat_video, read_coco, read_mot,
                                 write_cvat_video, write_cvat_images, write_coco, write_mot)

N = int(os.environ.get('FACELAB_FUZZ_EXAMPLES', '60'))
_TMP = Path(tempfile.mkdtemp(prefix='facelab-roundtrip-'))
_settings = settings(max_examples=N, deadline=None, suppress_health_check=list(HealthCheck))

coord = st.integers(0, 2000).map(lambda v: v/4)       # quarter pixels: exact in binary, so x2 - x1 + x1 == x2
extent = st.integers(1, 400).map(lambda v: v/4)
labels = st.sampled_from(['face', 'alice', 'a & b', '<x> "y"', "it's"])
attr_values = st.sampled_from([None, 'no', 'yes', 'a<b & "c"', '0003'])

def _attr_cols(df) -> list: return sorted(c for c in df if c.startswith('attr_') and df[c].notna().any())

def assert_same(got, want):
    "`got` holds the ground truth of `want` (each a `GroundTruth` or a table): the same GT_COLS and attr_* columns (all-missing ones aside), the same annotated frames."
    g, w = (x if isinstance(x, pd.DataFrame) else x.boxes for x in (got, want))
    assert _attr_cols(g) == _attr_cols(w), (_attr_cols(g), _attr_cols(w))
    cols = GT_COLS + _attr_cols(w)
    pd.testing.assert_frame_equal(g[cols].reset_index(drop=True), w[cols].reset_index(drop=True), check_dtype=False)
    assert annotated_frames(got).tolist() == annotated_frames(want).tolist(), (annotated_frames(got), annotated_frames(want))

# ---------------------------------------------------------------- CVAT for video: read, write, read again
@st.composite
def cvat_video_files(draw) -> str:
    "A valid CVAT-for-video file: a task with a start and step, tracks of boxes (keyframes or not, outside or not) with attributes."
    start, step, size = draw(st.sampled_from([0, 3, 10])), draw(st.integers(1, 3)), draw(st.integers(1, 12))
    meta = f"<start_frame>{start}</start_frame><frame_filter>{f'step={step}' if step > 1 else ''}</frame_filter>"
    meta += draw(st.sampled_from([f"<size>{size}</size>", f"<stop_frame>{start + (size-1)*step}</stop_frame>",
                                  f"<size>{size}</size><stop_frame>{start + (size-1)*step}</stop_frame>"]))
    source = draw(st.sampled_from(['', '<source>v &amp; w.mp4</source>']))
    tracks = ''
    for tid in draw(st.lists(st.integers(0, 6), unique=True, max_size=3)):
        boxes = ''
        for k in sorted(draw(st.lists(st.integers(0, size-1), unique=True, min_size=1, max_size=5))):
            x, y, w, h = draw(coord), draw(coord), draw(extent), draw(extent)
            flags = dict(outside=draw(st.sampled_from('0001')), occluded=draw(st.sampled_from('01')), keyframe=draw(st.sampled_from('011')))
            attrs = ''.join(f'<attribute name={quoteattr(n)}>{escape(v)}</attribute>'
                            for n, v in (('mask', draw(attr_values)), ('ignore', draw(st.sampled_from([None, 'true', 'false']))))
                            if v is not None)
            boxes += (f'<box frame="{start + k*step}" ' + ' '.join(f'{a}="{v}"' for a, v in flags.items()) +
                      f' xtl="{x}" ytl="{y}" xbr="{x+w}" ybr="{y+h}">{attrs}</box>')
        tracks += f'<track id="{tid}" label={quoteattr(draw(labels))}>{boxes}</track>'
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<annotations><version>1.1</version><meta><task>{meta}<mode>interpolation</mode>'
            f'</task>{source}</meta>{tracks}</annotations>')

@_settings
@given(cvat_video_files())
def test_cvat_video_read_write_read(xml):
    (_TMP/'v.xml').write_text(xml)
    first = read_cvat_video(_TMP/'v.xml')
    again = read_cvat_video(write_cvat_video(first, _TMP/'v_back.xml'))
    assert_same(again, first)

# ---------------------------------------------------------------- CVAT for video: tables with empty annotated frames
@st.composite
def video_tables(draw) -> tuple:
    "A ground-truth table (tracks with gaps, on a task grid) and its annotated frames, some of them without boxes."
    start, step = draw(st.sampled_from([(0, 1), (0, 1), (2, 3)]))
    grid = [start + k*step for k in range(16)]
    rows = []
    for tid in draw(st.lists(st.integers(0, 9), unique=True, max_size=4)):
        label = draw(labels)
        for f in draw(st.lists(st.sampled_from(grid), unique=True, max_size=8)):
            x, y = draw(coord), draw(coord)
            rows.append(dict(source='', frame=f, track_id=tid, label=label, x1=x, y1=y, x2=x + draw(extent), y2=y + draw(extent),
                             occluded=draw(st.booleans()), ignore=draw(st.booleans()), attr_mask=draw(attr_values)))
    df = pd.DataFrame(rows, columns=[c for c in GT_COLS if c != 'keyframe'] + ['attr_mask'])
    df = df.sort_values(['frame', 'track_id'], kind='stable').reset_index(drop=True)
    annotated = sorted(set(draw(st.lists(st.sampled_from(grid), max_size=6))) | (set(df.frame) if draw(st.booleans()) else set()))
    return df, annotated, (start, step)

@_settings
@given(video_tables())
def test_cvat_video_tables(case):
    df, annotated, (start, step) = case
    gt = GroundTruth(df, annotated_frames=annotated, task=dict(start=start, step=step))
    back = read_cvat_video(write_cvat_video(gt, _TMP/'t.xml'))
    want = gt._replace(boxes=df.assign(keyframe=df.frame.isin(annotated)))   # a box on an annotated frame is a keyframe, any other is interpolated
    assert_same(back, want)

# ---------------------------------------------------------------- CVAT for images and COCO
@st.composite
def image_tables(draw) -> GroundTruth:
    "A ground-truth table of stills: images with boxes and without, groups (track ids) or none, attributes, some image sizes."
    names = draw(st.lists(st.sampled_from(['a.jpg', 'b & c.jpg', '<d>.png', 'e "f".jpg', "g'h.jpg"]), unique=True, max_size=4))
    rows, sizes = [], {}
    for n in names:
        if draw(st.booleans()): sizes[n] = (draw(st.integers(1, 4000)), draw(st.integers(1, 4000)))
        for _ in range(draw(st.integers(0, 3))):
            x, y = draw(coord), draw(coord)
            tid = draw(st.one_of(st.none(), st.integers(0, 50)))
            rows.append(dict(source=n, frame=0, track_id=np.nan if tid is None else float(tid), label=draw(labels), x1=x, y1=y,
                             x2=x + draw(extent), y2=y + draw(extent), occluded=draw(st.booleans()), ignore=draw(st.booleans()),
                             keyframe=True, attr_note=draw(attr_values)))
    df = pd.DataFrame(rows, columns=GT_COLS + ['attr_note'])
    return GroundTruth(df, annotated_images=names, image_sizes=sizes, annotated_frames=[0] if names else [])

@_settings
@given(image_tables(), st.sampled_from(['cvat', 'coco']))
def test_image_tables(df, fmt):
    write, read, ext = (write_cvat_images, read_cvat, 'xml') if fmt == 'cvat' else (write_coco, read_coco, 'json')
    back = read(write(df, _TMP/f'i.{ext}'))
    assert_same(back, df)
    assert back.annotated_images == df.annotated_images
    assert back.image_sizes == df.image_sizes

# ---------------------------------------------------------------- MOT
@st.composite
def mot_tables(draw) -> pd.DataFrame:
    "A MOT-like table: frames, track ids (-1: none), ignore regions, occluded boxes, one label."
    rows = []
    for _ in range(draw(st.integers(0, 8))):
        x, y = draw(coord), draw(coord)
        rows.append(dict(source='', frame=draw(st.integers(0, 30)), track_id=draw(st.integers(-1, 9)), label='face', x1=x, y1=y,
                         x2=x + draw(extent), y2=y + draw(extent), occluded=draw(st.booleans()), ignore=draw(st.booleans()), keyframe=True))
    return pd.DataFrame(rows, columns=GT_COLS)

@_settings
@given(mot_tables())
def test_mot_tables(df):
    with warnings.catch_warnings():
        warnings.simplefilter('error')   # every annotated frame has boxes here: nothing to warn about
        back = read_mot(write_mot(df, _TMP/'gt.txt'))
    assert_same(back, df)
