/** `mats inspect PATH`: tensors, dtypes, shapes, sizes and metadata of a file or folder. */
import { Checkpoint } from '../checkpoint/checkpoint.js';
import { formatBytes, formatShape } from '../util/format.js';

export async function inspectCheckpoint(path: string, json: boolean): Promise<string> {
  const checkpoint = await Checkpoint.open(path);
  try {
    const tensors = checkpoint.names().map((n) => checkpoint.get(n)!);
    if (json) {
      return JSON.stringify({
        path,
        kind: checkpoint.kind,
        files: checkpoint.fileCount,
        totalBytes: checkpoint.totalBytes,
        metadata: checkpoint.metadata,
        tensors: tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, bytes: t.byteLength, file: t.file })),
      });
    }
    const lines = [`${path}: ${checkpoint.kind === 'sharded' ? `sharded, ${checkpoint.fileCount} files` : 'one file'}, ${tensors.length} tensors, ${formatBytes(checkpoint.totalBytes)}`];
    const meta = Object.entries(checkpoint.metadata);
    if (meta.length > 0) {
      lines.push('metadata:');
      for (const [k, v] of meta) lines.push(`  ${k}: ${(v.length > 200 ? `${v.slice(0, 200)}... (${v.length} chars)` : v).replace(/\n/g, '\\n')}`);
    }
    const width = Math.max(6, ...tensors.map((t) => t.name.length));
    lines.push(`${'tensor'.padEnd(width)}  ${'dtype'.padEnd(7)}  ${'shape'.padEnd(16)}  size`);
    for (const t of tensors) lines.push(`${t.name.padEnd(width)}  ${t.dtype.padEnd(7)}  ${formatShape(t.shape).padEnd(16)}  ${formatBytes(t.byteLength)}`);
    return lines.join('\n');
  } finally {
    await checkpoint.close();
  }
}
