"""Bounded-memory reading of one large JSON object whose big members are arrays of objects (COCO files).

The file is read in blocks. The top-level object is walked key by key; an array member is cut into pieces of
about :data:`PIECE` bytes at candidate element boundaries (``}`` followed by ``,`` or ``]``) and each piece is
decoded whole by msgspec, into the caller's typed records when it gives a decoder (fields the records do not
name, such as polygon coordinates, are skipped in C without becoming Python objects). A candidate that falls
inside a string or a nested value makes the piece end in the middle of a value, which msgspec reports as
truncated input or as an error at the very end of the input; the piece is then extended to the next candidate.
A piece that runs past the end of the array is cut back to the last candidate before the error. Any other
parse error is a real error in the file and is reported with its absolute byte offset. Memory is bounded by
the block and piece sizes, never by the number of records.

A piece whose records do not fit the typed decoder (a string id, a missing bbox, an integer beyond 64 bits) is
decoded again into plain Python values, so that the caller can name each bad record; JSON that msgspec refuses
but Python's json (and so pycocotools) accepts (``NaN``, ``Infinity``, ``1e400``, lone surrogates, high or low,
anywhere in any string or key) is decoded with the standard library, the piece that holds it only. An integer
of more digits than Python converts (``sys.get_int_max_str_digits()``, 4,300 by default; msgspec and Python's json
refuse it with an error) is read as its first :data:`~scalematch._text.KEPT_DIGITS` digits and sign
(:func:`long_int`): beyond every range a number is checked against, as one of hundreds of digits is, without
changing the interpreter's limit.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import msgspec

from scalematch._text import first_digits
from scalematch.errors import DatasetError

BLOCK = 8 << 20
PIECE = 4 << 20
MAX_VALUE = 64 << 20
_WS = b" \t\r\n"
_CANDIDATE = re.compile(rb"\}[ \t\r\n]*[,\]]")
# A surrogate escape. msgspec refuses a lone one ("\ud800", "\udc00"), which Python's json accepts, and words the
# error by what follows it and where the string is ("truncated", "invalid utf-16 surrogate pair", "unexpected end of
# hex escape"...): a piece that holds one and fails is judged by Python's json instead.
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
_AT_BYTE = re.compile(r"^JSON is malformed: (.*) \(byte (\d+)\)$")
# A boundary between two objects of an array, or its end: a ',' must come before a '{' (not a key, as after a
# nested object inside a record), so that cuts found without decoding mostly fall between records.
_BOUNDARY = re.compile(rb"\}[ \t\r\n]*(?:,[ \t\r\n]*(?=\{)|\])")
_ESCAPED = re.compile("[\udc80-\udcff]")  # what decoding with surrogateescape makes of a byte that is not UTF-8
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[{\]}]')
MAX_DEPTH = 512
_UNTYPED: msgspec.json.Decoder[Any] = msgspec.json.Decoder()

Progress = Callable[[int], None]


def long_int(text: str) -> int:
    """JSON's integer literal ``text`` as ``int(text)``, or, when it has more digits than Python converts (``int``
    raises ValueError), as :func:`~scalematch._text.first_digits` keeps it."""
    try:
        return int(text)
    except ValueError:
        return first_digits(text)


_DECODER, _LONG_INTS = json.JSONDecoder(), json.JSONDecoder(parse_int=long_int)


def loads(text: str) -> Any:
    """``json.loads(text)``, integers of more digits than Python converts read by :func:`long_int` (the hook is
    given only then: it is called for every integer)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except ValueError:  # "Exceeds the limit (4300 digits) for integer string conversion"
        return _LONG_INTS.decode(text)


class JsonStream:
    """A forward-only reader over ``f``; ``name`` is used in error messages."""

    def __init__(self, f: BinaryIO, name: str, progress: Progress | None = None) -> None:
        self._f = f
        self.name = name
        self._buf = bytearray()
        self._ascii = True  # whether the buffer holds ASCII only (then pieces are decoded in place)
        self._pos = 0
        self._base = 0
        self._eof = False
        self._progress = progress
        self._reported = 0
        self.key_at = 0
        """The byte offset of the last key :meth:`members` yielded (its opening quote)."""

    # -- buffer -------------------------------------------------------------------------------------------
    def _fill(self) -> bool:
        if self._eof:
            return False
        keep = max(self._pos - 1, 0)  # the byte before the position stays: a piece is decoded in place
        tail = len(self._buf) - keep
        buf = bytearray(tail + BLOCK)
        buf[:tail] = memoryview(self._buf)[keep:]
        with memoryview(buf) as view:
            n = self._f.readinto(view[tail:])  # type: ignore[attr-defined]
        if not n:
            self._eof = True
            return False
        del buf[tail + n :]
        self._buf = buf
        self._ascii = buf.isascii()
        self._base += keep
        self._pos -= keep
        self.report(self._base + len(self._buf))
        return True

    def offset(self) -> int:
        return self._base + self._pos

    def rewind(self, offset: int) -> None:
        """Go back to the byte ``offset`` of the file (where an element of an array begins)."""
        self._f.seek(offset)
        self._buf, self._base, self._pos, self._eof, self._ascii = bytearray(), offset, 0, False, True

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
        decoder = _DECODER
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
                raise self._error(f"not valid JSON ({_words(exc)})", at) from None
            except ValueError:  # an integer of more digits than Python converts: read it again, see long_int
                if decoder is _LONG_INTS:
                    raise
                decoder = _LONG_INTS
                continue
            taken = text[:end]
            bad = _ESCAPED.search(taken)
            if bad is not None:  # a byte that is not UTF-8 (json.load, and so pycocotools, refuses the file)
                at = self.offset() + len(taken[: bad.start()].encode("utf-8", "surrogateescape"))
                byte = taken[bad.start()].encode("utf-8", "surrogateescape")[0]
                raise self._error(f"not valid JSON (invalid UTF-8 byte 0x{byte:02x})", at)
            self._pos += len(taken.encode("utf-8", "surrogateescape"))
            return obj

    # -- top level -------------------------------------------------------------------------------------------
    def members(self) -> Iterator[str]:
        """Walk the top-level object; yield each key with the stream positioned at its value.

        The consumer must consume the value (``value`` or ``objects``) before asking for the next key.
        """
        b = self._peek()
        if b == -1:
            raise DatasetError(f"{self.name}: empty file, expected a JSON object")
        if self._base == 0:
            encoded = _encoding(bytes(self._buf[:4]))
            if encoded is not None:
                raise DatasetError(f"{self.name}: {encoded}")
        if b != ord("{"):
            raise self._error(f"expected a JSON object ('{{'), got {self._describe(b)}")
        self._pos += 1
        if self._peek() == ord("}"):
            self._pos += 1
        else:
            while True:
                if self._peek() != ord('"'):
                    self.expect(b'"', "a key string")
                self.key_at = self.offset()
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

    def objects(self, key: str, decoder: msgspec.json.Decoder[Any] | None = None) -> Iterator[tuple[list[Any], bool]]:
        """Yield the elements of the array at the current position, a piece at a time.

        Each piece comes as (values, typed): the records decoded by ``decoder`` (typed True), or, when they do
        not all fit it or no decoder is given, plain Python values (typed False).
        """
        if not self.opening(key):
            return
        while True:
            items, typed, closing = self.element(key, decoder)
            yield items, typed
            if closing == ord("]"):
                return

    def opening(self, key: str) -> bool:
        """Consume the ``[`` of the array at the current position: False (and the ``]`` consumed) when it is
        empty."""
        self.expect(b"[", f"an array for '{key}'")
        if self._peek() == ord("]"):
            self._pos += 1
            return False
        return True

    def element(self, key: str, decoder: msgspec.json.Decoder[Any] | None) -> tuple[list[Any], bool, int]:
        """The next piece of the array (see :meth:`objects`) and the byte that closes it (``,`` or ``]``)."""
        if self._peek() != ord("{"):
            raise self._error(f"expected an object in '{key}', got {self._describe(self._peek())}")
        return self._piece(key, decoder)

    def probe(self, start: int) -> tuple[int, int, int] | None:
        """Where a piece of the array that begins at the file offset ``start`` would end if cut at the first
        boundary :data:`PIECE` bytes on (``}`` then ``,`` and ``{``, or ``]``), found by reading a little of the
        file there (not through the buffer, whose position is unchanged): (the piece's end offset, just after its
        ``}``; the offset where the next piece begins; the byte, ``,`` or ``]``). Whether the piece holds whole
        elements only decoding it tells. None when no boundary comes before :data:`MAX_VALUE` bytes or the end of
        the file."""
        fd = self._f.fileno()
        at, size = start + PIECE, 1 << 16
        while True:
            window = os.pread(fd, size, at)
            m = _BOUNDARY.search(window)
            if m is not None:
                return at + m.start() + 1, at + m.end(), m[0].rstrip(b" \t\r\n")[-1]
            if len(window) < size or size > MAX_VALUE:
                return None
            size *= 4

    def report(self, offset: int) -> None:
        """Tell the progress callback that the file is read up to ``offset`` (never a smaller offset again)."""
        if self._progress is not None and offset > self._reported:
            self._reported = offset
            self._progress(offset)

    def _piece(self, key: str, decoder: msgspec.json.Decoder[Any] | None) -> tuple[list[Any], bool, int]:
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
                try:
                    parsed = self._parse(start, m.start() + 1, decoder)
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
            if parsed is None:
                lo = m.start() + 1 - start
                if lo > MAX_VALUE:
                    raise self._error(f"a record in '{key}' larger than {MAX_VALUE >> 20} MiB")
                closing = self._closing(start, start + lo)
                if closing is not None:  # the next search starts at the record's own end (else: at more bytes)
                    lo = closing - start
                continue
            self._pos = m.end()
            return parsed[0], parsed[1], self._buf[m.end() - 1]

    def _typed_in_place(self, start: int, end: int, decoder: msgspec.json.Decoder[Any]) -> list[Any] | None:
        """The piece ``buffer[start:end]`` (ASCII) decoded into typed records without copying it: the bytes just
        before and after it are overwritten with ``[`` and ``]`` for the decoder, then restored. None when the
        piece is not a list of such records (:meth:`_parse` then takes its usual way)."""
        buf = self._buf
        before, after = buf[start - 1], buf[end]
        buf[start - 1], buf[end] = 0x5B, 0x5D  # [ and ]
        try:
            with memoryview(buf) as view, view[start - 1 : end + 1] as text:
                return decoder.decode(text)  # type: ignore[no-any-return]
        except (msgspec.DecodeError, RecursionError):  # ValidationError is a DecodeError
            return None
        finally:
            buf[start - 1], buf[end] = before, after

    def _closing(self, start: int, at: int) -> int | None:
        """The offset of the first ``}`` at or after ``at`` that closes an element of the array whose element
        begins at ``start``, by counting brackets outside strings from there; None when the buffer ends first (or
        the array does). A cut at the 4 MiB mark can fall inside a record holding many ``},`` of its own (a list
        of thousands of small objects, or such text in a string): trying each of them in turn would decode the
        whole piece once per candidate; this finds the record's end in one pass."""
        depth = 0
        for t in _TOKEN.finditer(self._buf, start):
            c = t[0][0]
            if c == 0x22:  # a string
                continue
            if c in (0x5B, 0x7B):  # [ {
                depth += 1
                continue
            depth -= 1
            if depth < 0:
                return None
            if depth == 0 and t.start() >= at:
                return t.start()
        return None

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

    def _parse(self, start: int, end: int, decoder: msgspec.json.Decoder[Any] | None) -> tuple[list[Any], bool] | None:
        """Decode the piece ``buffer[start:end]``: (values, typed); None when it ends inside a value (extend it);
        :class:`_BadJson` on an error in the file (positions relative to ``start``)."""
        if decoder is not None and self._ascii and start > 0:
            typed = self._typed_in_place(start, end, decoder)
            if typed is not None:
                return typed, True
        with memoryview(self._buf) as view:
            text = b"".join((b"[", view[start:end], b"]"))  # one copy
        if not text.isascii():  # msgspec does not check the UTF-8 of strings it skips
            try:
                text.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _BadJson(f"invalid UTF-8 byte 0x{text[exc.start]:02x}", exc.start - 1) from None
        bad: _BadJson | None = None
        surrogate = False
        try:
            if decoder is not None:
                try:
                    return decoder.decode(text), True
                except msgspec.ValidationError:
                    pass  # valid JSON so far, other types: decode plain values
            return _UNTYPED.decode(text), False
        except msgspec.ValidationError:
            pass  # a number beyond a double's range: Python's json makes it inf
        except RecursionError:
            raise self._error("JSON nesting too deep", self._base + self._pos + _too_deep(text) - 1) from None
        except msgspec.DecodeError as exc:
            found = _AT_BYTE.match(str(exc))
            if found is not None and int(found.group(2)) >= len(text) - 1:
                return None  # the piece ends inside a value
            surrogate = _SURROGATE.search(text) is not None
            if found is None and not surrogate:
                return None  # "Input data was truncated": the piece ends inside a value
            if found is not None:
                bad = _BadJson(found.group(1), int(found.group(2)) - 1)
                if found.group(1) != "invalid character" and not surrogate:  # not NaN, Infinity or a lone
                    raise bad from None  # surrogate: an error for Python too
        # NaN, Infinity, numbers beyond a double and lone surrogates are accepted by Python's json (and so
        # by pycocotools): such a value is a record problem, not a file problem.
        decoded = text.decode("utf-8")
        try:
            return list(loads(decoded)), False
        except RecursionError:
            raise self._error("JSON nesting too deep", self._base + self._pos + _too_deep(text) - 1) from None
        except json.JSONDecodeError as exc:
            at = len(decoded[: exc.pos].encode("utf-8")) - 1
            if at >= end - start or exc.msg.startswith("Unterminated string"):
                return None
            # Report the later of the two positions: past the array's end, msgspec may stop earlier (at a
            # NaN that Python accepts) than where the piece really fails. At the same place, after a surrogate,
            # Python's words ("Invalid \\escape" after "\\ud800\\x") are the ones that fit.
            if bad is None or at > bad.pos or (surrogate and at == bad.pos):
                bad = _BadJson(_words(exc), at)
            raise bad from None


_BOMS = (
    (b"\x00\x00\xfe\xff", "UTF-32", "00 00 FE FF"),
    (b"\xff\xfe\x00\x00", "UTF-32", "FF FE 00 00"),
    (b"\xfe\xff", "UTF-16", "FE FF"),
    (b"\xff\xfe", "UTF-16", "FF FE"),
)


_FIRST = rb"[{\[ \t\r\n]"  # what JSON text that is a document begins with
_UNMARKED = (  # its first character (and, for UTF-16, an ASCII second one) in each encoding
    (re.compile(rb"\x00\x00\x00" + _FIRST), "UTF-32", "big"),
    (re.compile(_FIRST + rb"\x00\x00\x00"), "UTF-32", "little"),
    (re.compile(rb"\x00" + _FIRST + rb"\x00[\x01-\x7f]"), "UTF-16", "big"),
    (re.compile(_FIRST + rb"\x00[\x01-\x7f]\x00"), "UTF-16", "little"),
)


def _encoding(head: bytes) -> str | None:
    """What is wrong with a file that begins with the bytes ``head`` (its first four, or all it has) when it is not
    UTF-8 without a byte-order mark, as Windows tools write it (Notepad's or .NET's "UTF-8 with BOM", PowerShell 5's
    ``>`` in UTF-16); None when it is. Each of them is refused by pycocotools, mmengine and ultralytics'
    ``convert_coco``, which read the file as UTF-8 text for Python's json. JSON in UTF-16 or UTF-32 without a mark
    begins with ``{``, ``[`` or whitespace, written with zero bytes before (big-endian) or after it
    (little-endian)."""
    if head.startswith(b"\xef\xbb\xbf"):
        return (
            "starts with a UTF-8 byte-order mark (as some Windows tools write), which pycocotools and the toolkits "
            "refuse; save it without one"
        )
    for mark, name, shown in _BOMS:
        if head.startswith(mark):
            return f"is {name} (byte-order mark {shown}), not UTF-8: save it as UTF-8"
    for pattern, name, order in _UNMARKED:
        if pattern.match(head):
            return f"is {name} ({order}-endian, without a byte-order mark), not UTF-8: save it as UTF-8"
    return None


def _words(exc: json.JSONDecodeError) -> str:
    """What Python's json says is wrong, without the dangling "at" of "Invalid control character at" (the
    position follows in its own words)."""
    return exc.msg.removesuffix(" at")


class _BadJson(Exception):
    def __init__(self, msg: str, pos: int) -> None:
        super().__init__(msg)
        self.msg = msg
        self.pos = pos


def _too_deep(text: bytes) -> int:
    """Where the nesting of ``text`` first exceeds :data:`MAX_DEPTH` (else where it is deepest)."""
    depth = deepest = where = 0
    for m in _TOKEN.finditer(text):
        c = text[m.start()]
        if c == 0x22:  # '"'
            continue
        depth += 1 if c in b"[{" else -1
        if depth > deepest:
            deepest, where = depth, m.start()
            if depth > MAX_DEPTH:
                break
    return where
