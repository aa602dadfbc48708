/** Human-readable numbers for plans and logs. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

/**
 * A throughput with the unit that fits it (12.3 MB/s, 1.45 GB/s, 512 KB/s): never "0.00 GB/s"
 * for a small merge. Nothing read reads "0 B/s".
 */
export function formatRate(bytes: number, seconds: number): string {
  if (bytes <= 0 || !(seconds > 0)) return '0 B/s';
  return `${formatBytes(bytes / seconds)}/s`;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** "a, b, c and 12 more". */
export function listSome(items: readonly string[], max = 5): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

/** Words of text on lines of at most `width` characters; the first line indented by `first`, the others by `indent`. */
export function wrapText(text: string, indent: number, first = indent, width = 100): string {
  const lines: string[] = [];
  let line = ' '.repeat(first);
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line.trim().length > 0 && line.length + 1 + word.length > width) {
      lines.push(line);
      line = ' '.repeat(indent);
    }
    line += line.trim().length === 0 ? word : ` ${word}`;
  }
  lines.push(line);
  return lines.join('\n');
}

/** A flat row-major index as a multi-index of shape: "[i, j]" ("[]" for a scalar). */
export function formatIndex(flat: number, shape: readonly number[]): string {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(flat % shape[d]);
    flat = Math.floor(flat / shape[d]);
  }
  return `[${idx.join(', ')}]`;
}
