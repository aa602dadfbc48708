"""
numpy reference for the merge throughput measurement (bench/src/merge-models.ts): the same
task_arithmetic (base + lambda * sum of task vectors, float64 accumulation, F32 output) over the
same files, read through np.memmap tensor by tensor, written as one safetensors file.

    python3 bench/src/merge-numpy-reference.py DIR [LAMBDA]
"""
import json, os, struct, sys, time
import numpy as np

def header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n)), 8 + n

def main():
    folder = sys.argv[1]
    lam = float(sys.argv[2]) if len(sys.argv) > 2 else 0.3
    names = ["base.safetensors"] + sorted(f for f in os.listdir(folder) if f.startswith("task") and f.endswith(".safetensors"))
    files = [os.path.join(folder, f) for f in names]
    headers = [header(f) for f in files]
    maps = [np.memmap(f, dtype=np.uint8, mode="r") for f in files]
    meta, start = headers[0]
    tensors = [(k, v) for k, v in meta.items() if k != "__metadata__"]
    out_path = os.path.join(folder, "merged-numpy.safetensors")
    t0 = time.perf_counter()
    with open(out_path, "wb") as out:
        raw = open(files[0], "rb").read(start)
        out.write(raw)  # same layout as the base: F32 in, F32 out
        read = 0
        for name, info in tensors:
            b0, b1 = info["data_offsets"]
            views = [np.frombuffer(m[h[1] + h[0][name]["data_offsets"][0]: h[1] + h[0][name]["data_offsets"][1]], dtype=np.float32) for m, h in zip(maps, headers)]
            base = views[0].astype(np.float64)
            acc = np.zeros_like(base)
            for v in views[1:]:
                acc += v - base
            merged = (base + lam * acc).astype(np.float32)
            out.seek(start + b0)
            out.write(merged.tobytes())
            read += (b1 - b0) * len(views)
    seconds = time.perf_counter() - t0
    print(f"numpy: {read / 1e9:.2f} GB read in {seconds:.2f} s ({read / 1e9 / seconds:.2f} GB/s)")
    os.remove(out_path)

main()
