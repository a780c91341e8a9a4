"""How well do face models and detectors work on YOUR images and videos, at which threshold, and why do they fail?

Modules:

- `facelab.scale`: Embed and detect on a Dask cluster: the same calls with a `client`, work split by image content and video segment, every worker writing into the same caches, so a lost worker or a stopped run costs nothing that was finished.
- `facelab.store`: The caches' ground floor: files written atomically, unreadable parts set aside, and the claims by which processes share a cache. The embedding cache (`EmbeddingCache`) and the video-detection cache (`facelab.video`) are built on it.
- `facelab.tables`: The stage tables in one place: for each, its columns in order and the dtypes every such table has, one constructor (`stage_table`) and one check (`check_table`). Every stage builds its tables here, so an empty table has the same columns and dtypes as a full one."""

__version__ = "0.1.0"
