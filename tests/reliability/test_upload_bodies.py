"""Bodies the upload route refuses on their headers alone: multipart (Torque Pro never sends it) and any
body declared larger than DATA_UPLOAD_MAX_MEMORY_SIZE. Not a byte is read, nothing reaches the disk.

The body is a 50 MB stream that counts what the server reads from it and, at every read, looks into
FILE_UPLOAD_TEMP_DIR: Django spools a multipart file there as it parses (and deletes it after the
request, so only a look during the request can see it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from telemetry.models import Reading
from telemetry.vehicles import NewToken
from tests.conftest import EventCapture

BODY_BYTES = 50 * 1024 * 1024
BOUNDARY = "volttracker-test-boundary"


class WatchedBody:
    """A `wsgi.input` of `size` bytes, made as it is read: a multipart file part of zeros."""

    def __init__(self, size: int, temp_dir: Path) -> None:
        self.head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"50mb.bin\"\r\n"
                     "Content-Type: application/octet-stream\r\n\r\n").encode()
        self.size = size
        self.temp_dir = temp_dir
        self.read_bytes = 0
        self.temp_files_seen: set[str] = set()

    def read(self, size: int = -1) -> bytes:
        self.temp_files_seen.update(p.name for p in Path(self.temp_dir).iterdir())
        left = self.size - self.read_bytes
        size = left if size < 0 else min(size, left)
        head = self.head[self.read_bytes:self.read_bytes + size]
        chunk = head + b"\0" * (size - len(head))
        self.read_bytes += len(chunk)
        return chunk

    def readline(self, size: int = -1) -> bytes:
        return self.read(size if 0 <= size < 65536 else 65536)


@pytest.fixture
def send_body(client: Client, settings: Any, tmp_path: Path) -> Callable[..., tuple[Any, WatchedBody]]:
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)

    def send(token: str, content_type: str, size: int = BODY_BYTES) -> tuple[Any, WatchedBody]:
        body = WatchedBody(size, tmp_path)
        response = client.generic("POST", f"/api/torque/upload/{token}?session=s1&time=1780000000000&kd=42",
                                  CONTENT_TYPE=content_type, CONTENT_LENGTH=str(size),
                                  **{"wsgi.input": body})  # type: ignore[arg-type]  # a WSGI environ key
        return response, body

    return send


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


@pytest.mark.django_db
@pytest.mark.parametrize("known_token", [False, True], ids=["unknown token", "vehicle's token"])
def test_a_50_mb_multipart_upload_is_refused_unread_and_never_spooled(
        send_body: Callable[..., tuple[Any, WatchedBody]], volt: NewToken, wide_events: EventCapture,
        known_token: bool) -> None:
    response, body = send_body(volt.token if known_token else "not-a-token", MULTIPART)

    expected = (413, "E002") if known_token else (401, "E400")
    assert (response.status_code, response.json()["error"]["code"]) == expected
    assert body.read_bytes == 0 and body.temp_files_seen == set()
    assert Reading.objects.count() == 0
    [event] = wide_events.events
    assert event["http"]["request_size_bytes"] == BODY_BYTES and event["error"]["code"] == expected[1]


@pytest.mark.django_db
def test_a_small_multipart_upload_is_refused_too(send_body: Callable[..., tuple[Any, WatchedBody]],
                                                  volt: NewToken) -> None:
    """Torque Pro never sends multipart: its form fields are not taken either, however small."""
    response, body = send_body(volt.token, MULTIPART, size=300)
    assert (response.status_code, response.json()["error"]["code"]) == (413, "E002")
    assert "Multipart" in response.json()["error"]["message"] and body.read_bytes == 0


@pytest.mark.django_db
@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "application/octet-stream"])
def test_any_body_declared_over_the_limit_is_refused_unread(
        send_body: Callable[..., tuple[Any, WatchedBody]], volt: NewToken, settings: Any, content_type: str) -> None:
    response, body = send_body(volt.token, content_type, size=settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    assert (response.status_code, response.json()["error"]["code"]) == (413, "E002")
    assert body.read_bytes == 0 and Reading.objects.count() == 0
    response, body = send_body("not-a-token", content_type, size=settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    assert response.status_code == 401 and body.read_bytes == 0
