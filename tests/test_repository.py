"""The tree itself: no merge left half-done."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_MARKER = re.compile(r"^(<<<<<<< |=======$|>>>>>>> )", re.MULTILINE)


def test_no_tracked_file_holds_merge_conflict_markers() -> None:
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    paths = [ROOT / name for name in tracked.decode().split("\0") if name]
    assert len(paths) > 100  # the listing worked
    marked = [str(path.relative_to(ROOT)) for path in paths
              if path.is_file() and path.suffix in {".py", ".md", ".json", ".yml", ".toml", ".txt", ".html", ""}
              and _MARKER.search(path.read_text(errors="replace"))]
    assert marked == []
