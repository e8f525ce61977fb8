"""The file of 上传用户标签值文件: given as bytes, a path or a binary file object, measured
before anything is sent (the spec limits it to 100M, B01163) and streamed by httpx in
chunks rather than read into memory.
"""

from __future__ import annotations

import io
import mimetypes
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

MAX_UPLOAD_BYTES = 100 * 1024 * 1024  # spec: "文件大小限制在100M内"

UploadSource = bytes | bytearray | str | os.PathLike | IO[bytes]


class UnusableFile(ValueError):
    """The file cannot be measured or is open in text mode."""


@dataclass(frozen=True)
class Upload:
    name: str
    size: int
    content: bytes | IO[bytes]

    @property
    def content_type(self) -> str:
        return mimetypes.guess_type(self.name)[0] or "application/octet-stream"

    def as_httpx_file(self) -> tuple[str, bytes | IO[bytes], str]:
        return (self.name, self.content, self.content_type)


def _size_of(handle: IO[bytes]) -> int:
    """The whole file's size: httpx rewinds a file object and sends it from its start."""
    try:
        return os.fstat(handle.fileno()).st_size
    except (AttributeError, OSError, io.UnsupportedOperation):
        pass
    try:
        position = handle.tell()
        size = handle.seek(0, io.SEEK_END)
        handle.seek(position)
        return size
    except (AttributeError, OSError, io.UnsupportedOperation) as exc:
        raise UnusableFile("the file must be seekable so its size is known") from exc


@contextmanager
def open_upload(
    source: UploadSource, *, filename: str | None, default_name: str
) -> Iterator[Upload]:
    """The upload for `source`; a path is opened here (and closed after), a file object
    stays the caller's to close."""
    if isinstance(source, bytes | bytearray):
        yield Upload(filename or default_name, len(source), bytes(source))
        return
    if isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        with open(path, "rb") as handle:
            yield Upload(
                filename or os.path.basename(path), os.fstat(handle.fileno()).st_size, handle
            )
        return
    if isinstance(source, io.TextIOBase) or not hasattr(source, "read"):
        raise UnusableFile("give bytes, a path or a file opened in binary mode")
    name = getattr(source, "name", None)
    own_name = os.path.basename(name) if isinstance(name, str) else ""
    yield Upload(filename or own_name or default_name, _size_of(source), source)
