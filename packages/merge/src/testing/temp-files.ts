/** Shared helpers for @mats/merge tests: temporary folders and small checkpoints. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach } from 'vitest';

const created: string[] = [];

/** A fresh temporary folder, removed after the current test. */
export async function tempFolder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mats-merge-test-'));
  created.push(dir);
  return dir;
}

afterEach(async () => {
  while (created.length > 0) await rm(created.pop()!, { recursive: true, force: true });
});

export function bytesOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Builds a file from a length prefix, header text and data bytes, as the format lays them out. */
export function rawFile(header: string, data: Uint8Array = new Uint8Array(0), lengthOverride?: bigint): Uint8Array {
  const h = bytesOf(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

/** A writable stream that collects what is written, for runCli's io. */
export function captureStream(isTTY = false): NodeJS.WriteStream & { text: string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & { text: string };
  stream.text = '';
  (stream as unknown as PassThrough).on('data', (d: Buffer) => (stream.text += d));
  Object.assign(stream, { isTTY, columns: 120 });
  return stream;
}
