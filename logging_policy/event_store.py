"""The embedded event store: immutable Parquet files under one directory, listed by a manifest.

`manifest.json` is the store's one commit point. It names the live Parquet files (with each one's
time span) and the loader's position in the event log (inode and byte offset). It is replaced
atomically (write a temporary file, fsync, rename), so a reader sees either the old set of files and
offset or the new one, never a half-written file or a file without its offset:

- the loader writes new Parquet files first (temporary name, then rename), then the manifest. A crash
  between the two leaves files no manifest names: the next load deletes them and reads those lines
  again, so no line is lost and none is stored twice;
- files replaced by compaction or dropped by retention are "retired": left on disk for
  RETIRED_GRACE_S, so that a query that read the previous manifest can still open them.

Readers take no lock; the loader holds an flock on `.lock` so that two loads never run at once.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import orjson

from logging_policy.event_rows import HOUR, Row, columns_typed, rows_text

MANIFEST = "manifest.json"
DATA = "data"
RETIRED_GRACE_S = 600.0  # longer than any query may run (EXPLORER_TIME_LIMIT_SECONDS)


@dataclass(slots=True)
class Source:
    """Where the loader stopped: the log file's inode and the offset just past the last line it took."""

    inode: int = 0
    offset: int = 0


@dataclass(slots=True)
class Part:
    name: str
    hour: str  # YYYY-MM-DDTHH (UTC)
    rows: int


@dataclass(slots=True)
class Manifest:
    source: Source = field(default_factory=Source)
    parts: list[Part] = field(default_factory=list)
    retired: list[tuple[str, float]] = field(default_factory=list)  # (file name, retired at: epoch s)
    seq: int = 0
    loaded_total: int = 0
    malformed_total: int = 0

    def names(self) -> set[str]:
        return {p.name for p in self.parts}


def manifest_read(store: Path) -> Manifest:
    try:
        data = orjson.loads((store / MANIFEST).read_bytes())
    except FileNotFoundError:
        return Manifest()
    return Manifest(source=Source(**data["source"]), parts=[Part(**p) for p in data["parts"]],
                    retired=[(n, t) for n, t in data["retired"]], seq=data["seq"],
                    loaded_total=data["loaded_total"], malformed_total=data["malformed_total"])


def _replace_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def manifest_write(store: Path, manifest: Manifest) -> None:
    """The commit: readers and the next load see the new files and offset from here on."""
    _replace_atomically(store / MANIFEST, orjson.dumps(asdict(manifest)))


@contextmanager
def store_lock(store: Path) -> Iterator[bool]:
    """True when this process holds the loader's lock for the block; False when another load runs."""
    store.mkdir(parents=True, exist_ok=True)
    (store / DATA).mkdir(exist_ok=True)
    with (store / ".lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sql_text(value: str, *, clickhouse: bool = False) -> str:
    """A SQL string literal: quotes doubled; backslashes doubled for ClickHouse only (DuckDB's are literal)."""
    escaped = value.replace("\\", "\\\\") if clickhouse else value
    return "'" + escaped.replace("'", "''") + "'"


def rows_table(con: duckdb.DuckDBPyConnection, name: str, rows: list[Row], tmp_dir: Path) -> dict[str, str]:
    """Create table `name` from `rows` (typed per column); returns its columns. Empty rows: no table."""
    columns = columns_typed(rows)
    fd, tmp = tempfile.mkstemp(dir=tmp_dir, prefix=".rows-", suffix=".jsonl")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(rows_text(rows, columns))
        spec = ", ".join(f"{sql_text(c)}: {sql_text(t)}" for c, t in columns.items())
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM read_json({sql_text(tmp)}, "
                    f"format = 'newline_delimited', columns = {{{spec}}}, maximum_object_size = 67108864)")
    finally:
        Path(tmp).unlink(missing_ok=True)
    return columns


def parts_write(store: Path, manifest: Manifest, rows: list[Row]) -> list[Part]:
    """One new immutable Parquet file per UTC hour in `rows` (renamed into place once whole).

    The files are not live until the manifest names them (the caller commits it)."""
    if not rows:
        return []
    data = store / DATA
    con = duckdb.connect()
    try:
        rows_table(con, "batch", rows, data)
        hours = [h for (h,) in con.execute(f'SELECT DISTINCT "{HOUR}" FROM batch ORDER BY 1').fetchall()]
        parts = []
        for hour in hours:
            manifest.seq += 1
            name = f"events-{hour.replace('-', '').replace('T', '')}-{manifest.seq:08d}.parquet"
            parts.append(Part(name=name, hour=hour, rows=0))
            _parquet_copy(con, f'SELECT * EXCLUDE ("{HOUR}") FROM batch WHERE "{HOUR}" = {sql_text(hour)} '
                               'ORDER BY "timestamp"', data / name)
        counts = dict(con.execute(f'SELECT "{HOUR}", count(*) FROM batch GROUP BY 1').fetchall())
        for part in parts:
            part.rows = counts[part.hour]
        return parts
    finally:
        con.close()


def _parquet_copy(con: duckdb.DuckDBPyConnection, select: str, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    con.execute(f"COPY ({select}) TO {sql_text(str(tmp))} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)")
    with tmp.open("rb") as written:
        os.fsync(written.fileno())
    tmp.replace(target)


def parts_merge(store: Path, manifest: Manifest, parts: list[Part]) -> Part:
    """One file holding the rows of `parts` (of one hour), written and renamed; not yet committed."""
    data = store / DATA
    manifest.seq += 1
    hour = parts[0].hour
    merged = Part(name=f"events-{hour.replace('-', '').replace('T', '')}-{manifest.seq:08d}.parquet", hour=hour,
                  rows=sum(p.rows for p in parts))
    con = duckdb.connect()
    try:
        files = "[" + ", ".join(sql_text(str(data / p.name)) for p in parts) + "]"
        _parquet_copy(con, f'SELECT * FROM read_parquet({files}, union_by_name = true) ORDER BY "timestamp"',
                      data / merged.name)
    finally:
        con.close()
    return merged


def files_sweep(store: Path, manifest: Manifest, now: float) -> list[tuple[str, float]]:
    """Delete files no manifest names (a crashed load's) and retired files past their grace; returns
    the retired entries still kept. Called under the loader's lock only."""
    data = store / DATA
    kept = [(name, at) for name, at in manifest.retired if now - at < RETIRED_GRACE_S]
    keep = manifest.names() | {name for name, _ in kept}
    for path in data.iterdir():
        if path.name not in keep:
            path.unlink(missing_ok=True)
    return kept


def store_parts(store: Path, *, hour_from: str | None = None,
                hour_to: str | None = None) -> tuple[Manifest, list[Path]]:
    """The manifest and the live files whose hour is within [hour_from, hour_to] (as YYYY-MM-DDTHH)."""
    manifest = manifest_read(store)
    files = [store / DATA / p.name for p in manifest.parts
             if (hour_from is None or p.hour >= hour_from) and (hour_to is None or p.hour <= hour_to)]
    return manifest, files


def store_describe(paths: list[Path]) -> dict[str, Any]:
    """Column name -> DuckDB type over `paths` (the union of their schemas)."""
    if not paths:
        return {}
    con = duckdb.connect()
    try:
        files = "[" + ", ".join(sql_text(str(p)) for p in paths) + "]"
        return {name: kind for name, kind, *_ in
                con.execute(f"DESCRIBE SELECT * FROM read_parquet({files}, union_by_name = true)").fetchall()}
    finally:
        con.close()
