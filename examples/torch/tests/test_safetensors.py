"""mats_safetensors against the golden files and rejection rules of docs/SAFETENSORS.md."""

from __future__ import annotations

import json
import os
import struct
import tempfile
import unittest

import numpy as np

from mats_safetensors import SafetensorsError, read_safetensors, safetensors_bytes, write_safetensors

ATTN = np.arange(6, dtype=np.float32)


def header_of(data: bytes) -> bytes:
    (n,) = struct.unpack("<Q", data[:8])
    return data[8 : 8 + n]


class GoldenFiles(unittest.TestCase):
    def test_no_tensors_no_metadata(self):
        self.assertEqual(safetensors_bytes({}), struct.pack("<Q", 8) + b"{}" + b" " * 6)

    def test_metadata_only(self):
        data = safetensors_bytes({}, {"framework": "pt"})
        self.assertEqual(data, struct.pack("<Q", 40) + b'{"__metadata__":{"framework":"pt"}}' + b" " * 5)

    def test_one_float32_tensor(self):
        data = safetensors_bytes({"attn.0": ATTN.reshape(1, 2, 3)})
        header = b'{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}'
        self.assertEqual(len(header), 64)
        self.assertEqual(data, struct.pack("<Q", 64) + header + ATTN.astype("<f4").tobytes())
        self.assertEqual(len(data), 96)

    def test_padding_to_a_multiple_of_eight(self):
        data = safetensors_bytes({"attn0": ATTN.reshape(1, 1, 2, 3)})
        self.assertEqual(struct.unpack("<Q", data[:8])[0], 72)
        self.assertEqual(header_of(data), b'{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}' + b" " * 7)

    def test_reads_an_unpadded_file(self):
        header = b'{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}'
        data = struct.pack("<Q", 60) + header + np.array([1, 2, 3, 4], "<i4").tobytes()
        tensors, metadata = self.read(data)
        np.testing.assert_array_equal(tensors["test"], [[1, 2], [3, 4]])
        self.assertEqual(metadata, {})

    def test_reference_order_float64_first_then_names_and_sorted_metadata(self):
        data = safetensors_bytes(
            {"b": np.zeros(2, np.float32), "a": np.zeros(1, np.float32), "z": np.zeros(1, np.float64), "i": np.zeros(1, np.int64)},
            {"n_examples": "3", "fisher": "true"},
        )
        text = header_of(data).decode()
        self.assertTrue(text.startswith('{"__metadata__":{"fisher":"true","n_examples":"3"},"i":'))
        self.assertEqual([k for k in json.loads(text)][1:], ["i", "z", "a", "b"])

    def read(self, data: bytes):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "t.safetensors")
            with open(path, "wb") as f:
                f.write(data)
            return read_safetensors(path)


class RoundTrip(unittest.TestCase):
    def test_every_writable_dtype(self):
        rng = np.random.default_rng(0)
        tensors = {
            "f64": rng.standard_normal((3, 2)),
            "f32": rng.standard_normal(5).astype(np.float32),
            "f16": rng.standard_normal((2, 2)).astype(np.float16),
            "i64": rng.integers(-9, 9, 4),
            "u8": rng.integers(0, 255, 3).astype(np.uint8),
            "bool": np.array([True, False]),
            "scalar": np.array(2.5, np.float32),
            "empty": np.zeros((0, 3), np.float32),
            "big_endian": np.arange(3, dtype=">f4"),
        }
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "t.safetensors")
            write_safetensors(path, tensors, {"k": "v"})
            self.assertEqual(os.listdir(folder), ["t.safetensors"])
            read, metadata = read_safetensors(path)
        self.assertEqual(metadata, {"k": "v"})
        self.assertEqual(sorted(read), sorted(tensors))
        for name, value in tensors.items():
            np.testing.assert_array_equal(read[name], value, name)
            self.assertEqual(read[name].shape, value.shape)

    def test_bfloat16_is_read_as_the_top_half_of_a_float32(self):
        values = np.array([1.0, -2.5, 3.140625], np.float32)
        raw = (values.view(np.uint32) >> 16).astype("<u2").tobytes()
        header = json.dumps({"x": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 6]}}, separators=(",", ":")).encode()
        tensors, _ = GoldenFiles.read(self, struct.pack("<Q", len(header)) + header + raw)
        np.testing.assert_array_equal(tensors["x"], values)

    def test_unwritable_dtypes_and_names_are_refused(self):
        with self.assertRaisesRegex(SafetensorsError, "tensor 'c': cannot write numpy dtype complex128"):
            safetensors_bytes({"c": np.zeros(2, np.complex128)})
        with self.assertRaisesRegex(SafetensorsError, "invalid tensor name '__metadata__'"):
            safetensors_bytes({"__metadata__": np.zeros(1)})
        with self.assertRaisesRegex(SafetensorsError, "metadata must map strings to strings"):
            safetensors_bytes({}, {"n": 3})

    @unittest.skipUnless(__import__("importlib").util.find_spec("safetensors"), "the safetensors package is not installed")
    def test_byte_identical_to_the_reference_writer(self):
        from safetensors.numpy import save

        tensors = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "g": np.eye(2), "m": np.ones(3, np.float16)}
        self.assertEqual(safetensors_bytes(tensors, {"n_examples": "4"}), save(tensors, metadata={"n_examples": "4"}))


class Rejects(unittest.TestCase):
    def assert_rejected(self, data: bytes, message: str):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "bad.safetensors")
            with open(path, "wb") as f:
                f.write(data)
            with self.assertRaises(SafetensorsError) as caught:
                read_safetensors(path)
            self.assertIn(path, str(caught.exception))
            self.assertRegex(str(caught.exception), message)

    def file(self, header: dict, data: bytes) -> bytes:
        text = json.dumps(header, separators=(",", ":")).encode()
        return struct.pack("<Q", len(text)) + text + data

    def test_short_files_and_bad_lengths(self):
        self.assert_rejected(b"\x01\x02", "too short")
        self.assert_rejected(struct.pack("<Q", 100) + b"{}", "runs past the end")
        self.assert_rejected(struct.pack("<Q", 200_000_000) + b"{}", "exceeds 100000000")

    def test_bad_headers(self):
        self.assert_rejected(struct.pack("<Q", 2) + b"\xff\xfe", "not UTF-8 JSON")
        self.assert_rejected(struct.pack("<Q", 2) + b"[]", "not a JSON object")
        dup = b'{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}'
        self.assert_rejected(struct.pack("<Q", len(dup)) + dup + b"\x00", "the header has a duplicate key 'a'")
        self.assert_rejected(self.file({"a": {"dtype": "X9", "shape": [1], "data_offsets": [0, 1]}}, b"\x00"), "unsupported dtype 'X9'")
        self.assert_rejected(self.file({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1], "x": 1}}, b"\x00"), "exactly dtype, shape and data_offsets")
        self.assert_rejected(self.file({"__metadata__": {"n": 1}}, b""), "strings to strings")

    def test_offsets_must_tile_the_buffer(self):
        u8 = lambda begin, end, shape: {"dtype": "U8", "shape": shape, "data_offsets": [begin, end]}
        self.assert_rejected(self.file({"a": u8(1, 2, [1])}, b"\x00\x00"), r"'a': data starts at 1, expected 0")
        self.assert_rejected(self.file({"a": u8(0, 2, [2]), "b": u8(1, 2, [1])}, b"\x00\x00"), "a hole or an overlap")
        self.assert_rejected(self.file({"a": u8(0, 1, [1])}, b"\x00\x00"), "cover 1 bytes of a 2-byte data buffer")
        self.assert_rejected(self.file({"a": u8(0, 3, [2])}, b"\x00\x00\x00"), r"'a': 3 bytes for shape \[2\] of U8")
        self.assert_rejected(self.file({"a": u8(2, 1, [1])}, b"\x00\x00"), "invalid data_offsets")


if __name__ == "__main__":
    unittest.main()
