"""Loading the JSON-lines event log into the event store, from where the last load stopped.

Each step reads at most `chunk_bytes` of whole lines after the stored offset, writes them as Parquet
(one file per UTC hour) and commits the files and the new offset in one manifest write
(event_store.py). A crash anywhere repeats at most the uncommitted step.

Rotation (logrotate's rename-and-create): the stored inode no longer is the log's. The loader finds
the renamed file by that inode in the same directory, takes its remaining lines (a last line with no
newline too: nobody will finish it), then starts the new file at 0. A file truncated in place
(copytruncate) is read again from 0. Lines of a renamed file that is gone (compressed, deleted)
before the loader saw them are counted as `rotated_lost`.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from logging_policy.event_rows import Parsed, lines_parse
from logging_policy.event_store import (
    Manifest, Source, files_sweep, manifest_read, manifest_write, parts_merge, parts_write, store_lock,
)

CHUNK_BYTES = 32 * 1024 * 1024


@dataclass(slots=True)
class LoadResult:
    busy: bool = False  # another load held the lock: nothing done
    loaded: int = 0
    malformed: int = 0
    files_written: int = 0
    merged: int = 0
    expired: int = 0
    rotated: bool = False
    rotated_lost: bool = False
    seconds: float = 0.0


def _rotated_path(log: Path, inode: int) -> Path | None:
    """The file in the log's directory that has `inode` (the log renamed by logrotate)."""
    try:
        entries = list(os.scandir(log.parent))
    except FileNotFoundError:
        return None
    for entry in entries:
        if entry.name.startswith(log.name) and entry.name != log.name:
            try:
                if entry.inode() == inode and entry.is_file():
                    return Path(entry.path)
            except OSError:
                continue
    return None


def _read_lines(path: Path, offset: int, chunk_bytes: int, *, final: bool) -> tuple[list[bytes], int]:
    """Whole lines from `offset`, about `chunk_bytes` of them; the offset after the last one taken.

    `final`: the file will not grow (rotated away), so a last line without a newline is taken too."""
    with path.open("rb") as handle:
        handle.seek(offset)
        data = handle.read(chunk_bytes)
        end = data.rfind(b"\n")
        while end < 0 and len(data) >= chunk_bytes:  # one line longer than a chunk: read on to its end
            more = handle.read(chunk_bytes)
            if not more:
                break
            end = more.find(b"\n")
            end = len(data) + end if end >= 0 else -1
            data += more
        at_eof = not handle.read(1)
    if final and at_eof:
        return data.splitlines(), offset + len(data)
    if end < 0:
        return [], offset
    return data[: end + 1].splitlines(), offset + end + 1


def _step(store: Path, manifest: Manifest, lines: list[bytes], source: Source, result: LoadResult) -> None:
    parsed: Parsed = lines_parse(lines)
    parts = parts_write(store, manifest, parsed.rows)
    manifest.parts.extend(parts)
    manifest.source = source
    manifest.loaded_total += len(parsed.rows)
    manifest.malformed_total += parsed.malformed
    manifest_write(store, manifest)
    result.loaded += len(parsed.rows)
    result.malformed += parsed.malformed
    result.files_written += len(parts)


def _drain(store: Path, manifest: Manifest, path: Path, inode: int, start: int, chunk_bytes: int, *,
           final: bool, result: LoadResult) -> None:
    offset = start
    while True:
        lines, new_offset = _read_lines(path, offset, chunk_bytes, final=final)
        if new_offset == offset:
            if manifest.source.inode != inode:  # a new, still empty file: remember it
                _step(store, manifest, [], Source(inode=inode, offset=offset), result)
            return
        _step(store, manifest, lines, Source(inode=inode, offset=new_offset), result)
        offset = new_offset


def _compact(store: Path, manifest: Manifest, now: datetime, result: LoadResult) -> None:
    """Merge each finished hour's several files into one (queries open fewer files)."""
    current = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H")
    by_hour: dict[str, list] = {}
    for part in manifest.parts:
        if part.hour < current:
            by_hour.setdefault(part.hour, []).append(part)
    changed = False
    for hour_parts in by_hour.values():
        if len(hour_parts) < 2:
            continue
        merged = parts_merge(store, manifest, hour_parts)
        old = {p.name for p in hour_parts}
        manifest.parts = [p for p in manifest.parts if p.name not in old] + [merged]
        manifest.retired.extend((name, time.time()) for name in old)
        result.merged += len(old)
        changed = True
    if changed:
        manifest_write(store, manifest)


def _expire(store: Path, manifest: Manifest, now: datetime, retention_days: float, result: LoadResult) -> None:
    oldest = (now - timedelta(days=retention_days)).strftime("%Y-%m-%dT%H")
    expired = [p for p in manifest.parts if p.hour < oldest]
    if expired:
        manifest.parts = [p for p in manifest.parts if p.hour >= oldest]
        manifest.retired.extend((p.name, time.time()) for p in expired)
        manifest_write(store, manifest)
        result.expired = len(expired)


def events_load(*, log: Path, store: Path, retention_days: float, chunk_bytes: int = CHUNK_BYTES,
                now: datetime | None = None) -> LoadResult:
    """Load what the log has beyond the stored offset; compact finished hours; drop expired files."""
    started = time.monotonic()
    result = LoadResult()
    with store_lock(store) as held:
        if not held:
            result.busy = True
            return result
        manifest = manifest_read(store)
        manifest.retired = files_sweep(store, manifest, time.time())
        try:
            current = log.stat()
        except FileNotFoundError:
            current = None
        stored = manifest.source
        if stored.inode and (current is None or current.st_ino != stored.inode):
            result.rotated = True
            old = _rotated_path(log, stored.inode)
            if old is not None:
                _drain(store, manifest, old, stored.inode, stored.offset, chunk_bytes, final=True, result=result)
            else:
                result.rotated_lost = True
        if current is not None:
            start = manifest.source.offset if manifest.source.inode == current.st_ino else 0
            if start > current.st_size:  # truncated in place
                start = 0
            _drain(store, manifest, log, current.st_ino, start, chunk_bytes, final=False, result=result)
        moment = now or datetime.now(UTC)
        _compact(store, manifest, moment, result)
        _expire(store, manifest, moment, retention_days, result)
    result.seconds = time.monotonic() - started
    return result


def log_tail(*, log: Path, source: Source, max_bytes: int) -> Parsed:
    """The lines of the log the store does not hold yet (read-only; for queries on recent events).

    At most `max_bytes` from the stored offset (or from 0 if the log was rotated since); the newest
    lines are the ones left out past that bound."""
    try:
        current = log.stat()
    except FileNotFoundError:
        return Parsed()
    start = source.offset if source.inode == current.st_ino and source.offset <= current.st_size else 0
    lines, _ = _read_lines(log, start, max_bytes, final=False)
    return lines_parse(lines)


def events_load_configured(*, chunk_bytes: int = CHUNK_BYTES) -> LoadResult | None:
    """`events_load` with the settings' log, store and retention; None when no log file is configured."""
    from django.conf import settings  # noqa: PLC0415 - the loader itself stays free of Django

    if not settings.WIDE_EVENTS_PATH:
        return None
    return events_load(log=Path(settings.WIDE_EVENTS_PATH), store=Path(settings.EVENTS_STORE_DIR),
                       retention_days=settings.EVENTS_RETENTION_DAYS, chunk_bytes=chunk_bytes)
