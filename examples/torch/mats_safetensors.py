"""A tiny safetensors reader and writer in plain numpy (docs/SAFETENSORS.md).

For machines without the `safetensors` package: the writer lays a file out exactly as the
reference writer does (tensors sorted by dtype, then by name; compact JSON with __metadata__
first; the header padded with spaces to a multiple of 8), so its files are byte-identical to
the reference's and to @mats/merge's. The reader applies the reference's checks (offsets tile
the data buffer exactly, sizes match the shapes) and names the file and tensor at fault.

    write_safetensors(path, {"w": np.zeros((2, 3), np.float32)}, {"n_examples": "10"})
    tensors, metadata = read_safetensors(path)
"""

from __future__ import annotations

import json
import os
import struct
from typing import Dict, Mapping, Optional, Tuple

import numpy as np

__all__ = ["SafetensorsError", "write_safetensors", "read_safetensors", "safetensors_bytes"]

# The reference's dtype order; files list tensors of later dtypes first (U64, I64, F64, ...).
_WRITE_ORDER = [
    "BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ",
    "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64",
]
_RANK = {name: rank for rank, name in enumerate(_WRITE_ORDER)}

# safetensors dtype <-> little-endian numpy dtype (BF16 is read into float32, see _decode).
_NUMPY = {
    "BOOL": np.dtype("bool"), "U8": np.dtype("u1"), "I8": np.dtype("i1"), "I16": np.dtype("<i2"),
    "U16": np.dtype("<u2"), "F16": np.dtype("<f2"), "I32": np.dtype("<i4"), "U32": np.dtype("<u4"),
    "F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "I64": np.dtype("<i8"), "U64": np.dtype("<u8"),
}
_BITS = {"BF16": 16, **{name: dtype.itemsize * 8 for name, dtype in _NUMPY.items()}}
_FROM_NUMPY = {dtype.newbyteorder("<") if dtype.itemsize > 1 else dtype: name for name, dtype in _NUMPY.items()}

# The reference reader's limit on the header length.
_MAX_HEADER = 100_000_000


class SafetensorsError(ValueError):
    """A file that is not valid safetensors, or tensors that cannot be written; names the file."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")


def _dtype_name(path: str, name: str, array: np.ndarray) -> str:
    dtype = array.dtype.newbyteorder("<") if array.dtype.itemsize > 1 else array.dtype
    if dtype not in _FROM_NUMPY:
        raise SafetensorsError(path, f"tensor {name!r}: cannot write numpy dtype {array.dtype} (writable: {', '.join(sorted(_NUMPY))})")
    return _FROM_NUMPY[dtype]


def safetensors_bytes(tensors: Mapping[str, np.ndarray], metadata: Optional[Mapping[str, str]] = None, path: str = "<memory>") -> bytes:
    """The bytes of a safetensors file holding `tensors` (C order) and string `metadata`."""
    for key, value in (metadata or {}).items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise SafetensorsError(path, f"metadata must map strings to strings, got {key!r}: {value!r}")
    specs = []
    for name, array in tensors.items():
        if not isinstance(name, str) or name == "__metadata__":
            raise SafetensorsError(path, f"invalid tensor name {name!r}")
        array = np.asarray(array)
        specs.append((name, _dtype_name(path, name, array), array))
    # Descending dtype rank, then name ascending (Python compares code points, as Rust compares UTF-8 bytes).
    specs.sort(key=lambda spec: spec[0])
    specs.sort(key=lambda spec: _RANK[spec[1]], reverse=True)

    def text(value: str) -> str:
        return json.dumps(value, ensure_ascii=False)

    entries = []
    if metadata:
        pairs = ",".join(f"{text(k)}:{text(metadata[k])}" for k in sorted(metadata))
        entries.append(f'"__metadata__":{{{pairs}}}')
    offset = 0
    blobs = []
    for name, dtype, array in specs:
        blob = np.ascontiguousarray(array, dtype=_NUMPY[dtype]).tobytes()
        shape = ",".join(str(d) for d in array.shape)
        entries.append(f'{text(name)}:{{"dtype":"{dtype}","shape":[{shape}],"data_offsets":[{offset},{offset + len(blob)}]}}')
        blobs.append(blob)
        offset += len(blob)
    header = ("{" + ",".join(entries) + "}").encode("utf-8")
    header += b" " * ((8 - len(header) % 8) % 8)
    return struct.pack("<Q", len(header)) + header + b"".join(blobs)


def write_safetensors(path: str, tensors: Mapping[str, np.ndarray], metadata: Optional[Mapping[str, str]] = None) -> None:
    """Writes a safetensors file, through the `safetensors` package when it is installed (same
    bytes). It appears under `path` only when complete (written beside it, then renamed), so an
    interrupted run leaves no file that looks finished."""
    try:
        from safetensors.numpy import save
    except ImportError:
        data = safetensors_bytes(tensors, metadata, path)
    else:
        data = save({name: np.ascontiguousarray(array) for name, array in tensors.items()}, metadata=dict(metadata) if metadata else None)
    partial = f"{path}.partial"
    try:
        with open(partial, "wb") as f:
            f.write(data)
        os.replace(partial, path)
    except BaseException:
        if os.path.exists(partial):
            os.remove(partial)
        raise


def read_safetensors(path: str) -> Tuple[Dict[str, np.ndarray], Dict[str, str]]:
    """Reads every tensor (numpy arrays in their dtype; BF16 widened to float32) and the metadata."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise SafetensorsError(path, f"{len(data)} bytes: too short for the 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if n > _MAX_HEADER:
        raise SafetensorsError(path, f"header length {n} exceeds {_MAX_HEADER}")
    if 8 + n > len(data):
        raise SafetensorsError(path, f"header length {n} runs past the end of the {len(data)}-byte file")
    try:
        header = json.loads(data[8 : 8 + n].decode("utf-8"), object_pairs_hook=_no_duplicates)
    except _DuplicateKey as e:
        raise SafetensorsError(path, f"the header has a duplicate key {e.args[0]!r}") from None
    except (UnicodeDecodeError, ValueError) as e:
        raise SafetensorsError(path, f"header is not UTF-8 JSON: {e}") from None
    if not isinstance(header, dict):
        raise SafetensorsError(path, "header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise SafetensorsError(path, "__metadata__ must map strings to strings")
    buffer = memoryview(data)[8 + n :]
    entries = []
    for name, entry in header.items():
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise SafetensorsError(path, f"tensor {name!r}: an entry needs exactly dtype, shape and data_offsets")
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if dtype not in _BITS:
            raise SafetensorsError(path, f"tensor {name!r}: unsupported dtype {dtype!r}")
        if not (isinstance(shape, list) and all(_is_count(d) for d in shape)):
            raise SafetensorsError(path, f"tensor {name!r}: invalid shape {shape!r}")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_count(o) for o in offsets) and offsets[0] <= offsets[1]):
            raise SafetensorsError(path, f"tensor {name!r}: invalid data_offsets {offsets!r}")
        size = int(np.prod(shape, dtype=object)) if shape else 1
        if (offsets[1] - offsets[0]) * 8 != size * _BITS[dtype]:
            raise SafetensorsError(path, f"tensor {name!r}: {offsets[1] - offsets[0]} bytes for shape {shape} of {dtype}")
        entries.append((offsets[0], offsets[1], name, dtype, shape))
    # The offsets must tile the buffer: no hole, no overlap, no trailing bytes.
    entries.sort(key=lambda e: (e[0], e[1]))
    end = 0
    for begin, stop, name, _, _ in entries:
        if begin != end:
            raise SafetensorsError(path, f"tensor {name!r}: data starts at {begin}, expected {end} (a hole or an overlap)")
        end = stop
    if end != len(buffer):
        raise SafetensorsError(path, f"the tensors cover {end} bytes of a {len(buffer)}-byte data buffer")
    tensors = {name: _decode(buffer[begin:stop], dtype, shape) for begin, stop, name, dtype, shape in entries}
    return tensors, dict(metadata)


def _decode(raw: memoryview, dtype: str, shape) -> np.ndarray:
    if dtype == "BF16":
        # BF16 is the top half of a float32.
        return (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32).reshape(shape)
    return np.frombuffer(raw, dtype=_NUMPY[dtype]).reshape(shape).copy()


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**48


class _DuplicateKey(Exception):
    pass


def _no_duplicates(pairs):
    seen = set()
    for key, _ in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen.add(key)
    return dict(pairs)
