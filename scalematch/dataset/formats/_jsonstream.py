"""Bounded-memory reading of one large JSON object whose big members are arrays of objects (COCO files).

The file is read in blocks. The top-level object is walked key by key; an array member is cut into pieces of
about :data:`PIECE` bytes at candidate element boundaries (``}`` followed by ``,`` or ``]``) and each piece is
parsed whole by orjson. A candidate that falls inside a string or a nested value makes the piece end in the
middle of a value, which orjson reports as "unexpected end of data" at the very end of the input; the piece
is then extended to the next candidate. A piece that runs past the end of the array is cut back to the last
candidate before the error. Any other parse error is a real error in the file and is reported with its
absolute byte offset. Memory is bounded by the block and piece sizes, never by the number of records.

Polygon segmentations (``"segmentation": [[numbers...]]``) can be skipped without being parsed
(``skip_polygons``): they are only needed when an annotation has no bbox, and the caller then re-reads that
piece in full (:meth:`JsonStream.full`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import orjson

from scalematch.errors import DatasetError

BLOCK = 8 << 20
PIECE = 4 << 20
MAX_VALUE = 64 << 20
_WS = b" \t\r\n"
_CANDIDATE = re.compile(rb"\}[ \t\r\n]*[,\]]")
# From '"segmentation": [[' over polygon characters to the last ']' before a quote or brace: in valid JSON
# exactly the polygon list. (Measured faster than a find()-based loop: Python's per-match overhead dominates.)
_POLYGON = re.compile(rb'"segmentation"[ \t\r\n]*:[ \t\r\n]*\[[ \t\r\n]*\[[-+0-9.eE,\s\[\]]*\]')
POLYGON_MARK = "\x00polygon"
_POLYGON_REPL = b'"segmentation":"\\\\u0000polygon"'

Progress = Callable[[int], None]


class JsonStream:
    """A forward-only reader over ``f``; ``name`` is used in error messages."""

    def __init__(self, f: BinaryIO, name: str, progress: Progress | None = None) -> None:
        self._f = f
        self.name = name
        self._buf = b""
        self._pos = 0
        self._base = 0
        self._eof = False
        self._progress = progress

    # -- buffer -------------------------------------------------------------------------------------------
    def _fill(self) -> bool:
        if self._eof:
            return False
        chunk = self._f.read(BLOCK)
        if not chunk:
            self._eof = True
            return False
        self._base += self._pos
        self._buf = self._buf[self._pos :] + chunk
        self._pos = 0
        if self._progress is not None:
            self._progress(self._base + len(self._buf))
        return True

    def offset(self) -> int:
        return self._base + self._pos

    def _peek(self) -> int:
        """The next non-whitespace byte (consumed whitespace), or -1 at end of file."""
        while True:
            buf = self._buf
            n = len(buf)
            p = self._pos
            while p < n and buf[p] in _WS:
                p += 1
            self._pos = p
            if p < n:
                return buf[p]
            if not self._fill():
                return -1

    def _error(self, what: str, offset: int | None = None) -> DatasetError:
        at = self.offset() if offset is None else offset
        return DatasetError(f"{self.name}: {what} at byte {at}")

    def _truncated(self) -> DatasetError:
        while self._fill():
            pass
        size = self._base + len(self._buf)
        return DatasetError(f"{self.name}: file ends at byte {size} inside the JSON document (truncated?)")

    def _describe(self, byte: int) -> str:
        if byte == -1:
            return "end of file"
        if 32 <= byte < 127:
            return repr(chr(byte))
        return f"byte 0x{byte:02x}"

    def expect(self, char: bytes, what: str) -> None:
        b = self._peek()
        if b != char[0]:
            if b == -1:
                raise self._truncated()
            raise self._error(f"expected {what}, got {self._describe(b)}")
        self._pos += 1

    # -- small values ----------------------------------------------------------------------------------------
    def value(self) -> Any:
        """Parse the next (small) JSON value with the standard library and return it."""
        if self._peek() == -1:
            raise self._truncated()
        decoder = json.JSONDecoder()
        window = 1 << 16
        while True:
            text = self._buf[self._pos : self._pos + window].decode("utf-8", "surrogateescape")
            try:
                obj, end = decoder.raw_decode(text)
            except RecursionError:
                raise self._error("JSON nesting too deep") from None
            except json.JSONDecodeError as exc:
                if not self._eof or self._pos + window < len(self._buf):
                    # The value may just be cut by the window: look at more before judging.
                    if window > MAX_VALUE:
                        raise self._error(f"a top-level value larger than {MAX_VALUE >> 20} MiB") from None
                    window *= 4
                    while self._pos + window > len(self._buf) and self._fill():
                        pass
                    continue
                if exc.pos >= len(text) - 1 or exc.msg.startswith("Unterminated string"):
                    raise self._truncated() from None
                at = self.offset() + len(text[: exc.pos].encode("utf-8", "surrogateescape"))
                raise self._error(f"not valid JSON ({exc.msg})", at) from None
            self._pos += len(text[:end].encode("utf-8", "surrogateescape"))
            return obj

    # -- top level -------------------------------------------------------------------------------------------
    def members(self) -> Iterator[str]:
        """Walk the top-level object; yield each key with the stream positioned at its value.

        The consumer must consume the value (``value`` or ``objects``) before asking for the next key.
        """
        b = self._peek()
        if b == -1:
            raise DatasetError(f"{self.name}: empty file, expected a JSON object")
        if b != ord("{"):
            raise self._error(f"expected a JSON object ('{{'), got {self._describe(b)}")
        self._pos += 1
        if self._peek() == ord("}"):
            self._pos += 1
        else:
            while True:
                if self._peek() != ord('"'):
                    self.expect(b'"', "a key string")
                key = self.value()
                self.expect(b":", "':'")
                yield str(key)
                b = self._peek()
                if b == ord(","):
                    self._pos += 1
                    continue
                if b == ord("}"):
                    self._pos += 1
                    break
                self.expect(b"}", "',' or '}'")
        b = self._peek()
        if b != -1:
            raise self._error(f"unexpected data after the JSON object: {self._describe(b)}")

    def objects(self, key: str, skip_polygons: bool = False) -> Iterator[tuple[list[Any], bytes]]:
        """Yield the elements of the array at the current position, a piece at a time.

        Each piece comes as (values, raw bytes of the piece); ``full(raw)`` re-parses it with polygons.
        """
        self.expect(b"[", f"an array for '{key}'")
        if self._peek() == ord("]"):
            self._pos += 1
            return
        while True:
            if self._peek() != ord("{"):
                raise self._error(f"expected an object in '{key}', got {self._describe(self._peek())}")
            items, raw, closing = self._piece(key, skip_polygons)
            yield items, raw
            if closing == ord("]"):
                return

    def _piece(self, key: str, skip_polygons: bool) -> tuple[list[Any], bytes, int]:
        lo = 0  # candidates ending before start + lo end inside a value
        while True:
            start = self._pos
            m = _CANDIDATE.search(self._buf, start + max(lo, PIECE))
            if m is None and not self._eof:
                if len(self._buf) - start > MAX_VALUE:
                    raise self._error(f"a record in '{key}' larger than {MAX_VALUE >> 20} MiB")
                self._fill()
                continue
            if m is None:
                m = self._last_candidate(start + lo)
                if m is None:
                    self._pos = len(self._buf)
                    raise self._truncated()
            while True:
                raw = self._buf[start : m.start() + 1]
                try:
                    items = self._parse(raw, skip_polygons)
                    break
                except _BadJson as exc:
                    # The piece may run past the end of the array: retry up to the last candidate before
                    # the error; if there is none, the error is in the file.
                    last = None
                    for found in _CANDIDATE.finditer(self._buf, start + lo, start + exc.pos + 1):
                        last = found
                    if last is None or last.end() >= m.end():
                        raise self._error(f"not valid JSON ({exc.msg})", self._base + start + exc.pos) from None
                    m = last
            if items is None:
                lo = m.start() + 1 - start
                if lo > MAX_VALUE:
                    raise self._error(f"a record in '{key}' larger than {MAX_VALUE >> 20} MiB")
                continue
            self._pos = m.end()
            return items, raw, self._buf[m.end() - 1]

    def full(self, raw: bytes) -> list[Any]:
        """Re-parse a piece yielded by :meth:`objects` without skipping polygons."""
        items = self._parse(raw, False)
        assert items is not None
        return items

    def _last_candidate(self, lo: int) -> re.Match[bytes] | None:
        """The last candidate boundary at or after ``lo`` in the buffer (at end of file)."""
        p = len(self._buf)
        while True:
            p = self._buf.rfind(b"}", lo, p)
            if p < 0:
                return None
            m = _CANDIDATE.match(self._buf, p)
            if m is not None:
                return m

    def _parse(self, raw: bytes, skip_polygons: bool) -> list[Any] | None:
        """Parse one piece; None when it ends inside a value (extend it); :class:`_BadJson` on an error."""
        text = b"[" + raw + b"]"
        if skip_polygons:
            try:
                return list(orjson.loads(_POLYGON.sub(_POLYGON_REPL, text)))
            except orjson.JSONDecodeError:
                pass  # decide on the unmodified text below
        try:
            return list(orjson.loads(text))
        except orjson.JSONDecodeError as exc:
            pos = _byte_pos(text, exc.pos)  # orjson counts characters
            if pos >= len(text) - 1:
                return None
            if "depth" in exc.msg:
                raise self._error("JSON nesting too deep", self._base + self._pos + pos - 1) from None
            bad = _BadJson(exc.msg, pos - 1)
        # orjson refuses NaN, Infinity and out-of-range numbers that Python's json (and so pycocotools)
        # accepts; such a value is a record problem, not a file problem.
        try:
            decoded = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _BadJson(f"invalid UTF-8 byte 0x{text[exc.start]:02x}", exc.start - 1) from None
        try:
            return list(json.loads(decoded))
        except RecursionError:
            raise bad from None
        except json.JSONDecodeError as exc:
            # Report the later of the two positions: past the array's end, orjson may stop earlier (at a
            # NaN that Python accepts) than where the piece really fails.
            at = len(decoded[: exc.pos].encode("utf-8")) - 1
            if at > bad.pos:
                bad = _BadJson(exc.msg, at)
            raise bad from None


class _BadJson(Exception):
    def __init__(self, msg: str, pos: int) -> None:
        super().__init__(msg)
        self.msg = msg
        self.pos = pos


def _byte_pos(text: bytes, char_pos: int) -> int:
    """The byte offset in UTF-8 ``text`` of character ``char_pos``."""
    if text.isascii():
        return char_pos
    return len(text.decode("utf-8", "surrogateescape")[:char_pos].encode("utf-8", "surrogateescape"))
