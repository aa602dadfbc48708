#!/usr/bin/env node
// Compares two merged checkpoints tensor by tensor: the same names, dtypes, shapes and bytes.
//   node examples/distributed/compare-outputs.mjs DISTRIBUTED SINGLE
// Exit status 0 when identical, 1 otherwise (each difference named). Needs `npm run build`.
import { Checkpoint } from '@mats/merge';

const [a, b] = process.argv.slice(2);
if (a === undefined || b === undefined) {
  console.error('usage: compare-outputs.mjs DISTRIBUTED SINGLE');
  process.exit(2);
}
const left = await Checkpoint.open(a);
const right = await Checkpoint.open(b);
const problems = [];
const names = new Set([...left.names(), ...right.names()]);
for (const name of [...names].sort()) {
  const x = left.get(name);
  const y = right.get(name);
  if (x === undefined || y === undefined) {
    problems.push(`${name}: only in ${x === undefined ? b : a}`);
    continue;
  }
  if (x.dtype !== y.dtype || x.shape.join(',') !== y.shape.join(',')) {
    problems.push(`${name}: ${x.dtype} [${x.shape}] vs ${y.dtype} [${y.shape}]`);
    continue;
  }
  if (Buffer.compare(Buffer.from(await left.readBytes(name)), Buffer.from(await right.readBytes(name))) !== 0) problems.push(`${name}: the bytes differ`);
}
await left.close();
await right.close();
if (problems.length > 0) {
  console.error(`${a} and ${b} differ:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`${a} (${left.kind}, ${left.fileCount} files) and ${b} (${right.kind}, ${right.fileCount} files): ${names.size} tensors, byte for byte identical`);
