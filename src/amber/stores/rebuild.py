"""Building the HNSW index of a large embedded collection without blocking calls.

The engine's optimizer holds a collection for as long as it runs (tens of seconds at 100k
memories), and no query on it answers meanwhile. So the daemon copies the collection, lets
another process optimize the copy (`python -m amber.stores.rebuild FOLDER`), keeps every write
made meanwhile, and then, under the write lock for a moment, applies those writes to the copy
and switches readers to it. Below the threshold nothing is built (docs/scaling.md says where
the index pays off and why the threshold is higher).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from amber.stores.edge import EdgeStore

Log = Callable[[str], None]
Target = Callable[[], "tuple[EdgeStore, str, threading.Lock] | None"]  # store, collection, lock
GRACE_SECONDS = 5.0  # reads in flight on the old copy finish before it is closed


class BackgroundIndexer:
    def __init__(self, target: Target, threshold: int, log: Log, interval: float = 60.0) -> None:
        """`target` gives the store, the collection and the write lock as they are now (a
        reindex replaces the daemon's runtime), or None for a store that is not embedded."""
        self.target, self.threshold, self.log, self.interval = target, threshold, log, interval
        self._stop = threading.Event()
        self.builds = 0
        self._thread = threading.Thread(target=self._run, name="amber-indexer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=120)

    def due(self) -> bool:
        """Whether a build would index what the index misses. Never built (no record): when
        most points are outside the index. Built: once the collection grew by a tenth, or when
        the writes replayed after the build (which move their points out of the indexed
        segment) touched a tenth of it. The record outlives the daemon, so a new daemon does
        not build again what the last one built."""
        found = self.target()
        if found is None or not found[0].exists(found[1]):
            return False
        store, collection = found[0], found[1]
        points, indexed = store.indexed(collection)
        if points < self.threshold:
            return False
        record = read_record(store.build_record(collection))
        if record is None:
            return indexed < 0.9 * points
        built, replayed = record
        return points >= 1.1 * built or replayed >= 0.1 * built

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.due():
                self.rebuild()
            self._stop.wait(self.interval)

    def rebuild(self) -> bool:
        """One rebuild; False (and the old collection kept) when the build failed."""
        found = self.target()
        if found is None:
            return False
        store, collection, write_lock = found
        started = time.monotonic()
        self.log(f"index: building the HNSW index of {store.indexed(collection)[0]} points")
        with write_lock:
            old_folder = store.folder(collection)
            generation = int(time.time() * 1000)
            folder = store.begin_copy(collection, generation)
        build = subprocess.run(
            [sys.executable, "-E", "-m", "amber.stores.rebuild", str(folder)],
            capture_output=True,
            text=True,
            check=False,
        )
        if build.returncode != 0:
            store.abandon(collection, folder)
            self.log(f"index: the build failed, kept the old collection: {build.stderr[-300:]}")
            return False
        with write_lock:
            old = store.adopt(collection, folder, generation)
        self.builds += 1
        points, indexed = store.indexed(collection)
        replayed = store.replayed.get(collection, 0)
        write_record(store.build_record(collection), points, replayed)
        took = time.monotonic() - started
        self.log(
            f"index: {indexed} of {points} vectors indexed in {took:.1f} s, calls served; "
            f"{replayed} points written meanwhile were replayed"
        )
        retire = threading.Timer(GRACE_SECONDS, _retire, args=(old, old_folder))
        retire.daemon = True
        retire.start()
        return True


def read_record(path: Path) -> tuple[int, int] | None:
    """(points when the last build ended, points its replayed writes touched), or None."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return int(data["points"]), int(data["replayed"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no build yet, or a record from elsewhere: the engine's count decides


def write_record(path: Path, points: int, replayed: int) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps({"points": points, "replayed": replayed}), encoding="utf-8")
    os.replace(tmp, path)


def _retire(shard: object, folder: Path) -> None:
    if shard is not None:
        shard.close()  # type: ignore[attr-defined]
    shutil.rmtree(folder, ignore_errors=False)


if __name__ == "__main__":  # the child: optimize the copy named on the command line
    EdgeStore.optimize_folder(Path(sys.argv[1]))
