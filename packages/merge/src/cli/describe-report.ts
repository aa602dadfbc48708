/** A merged tensor's log line and a merge's last line, as the CLI (and the web page) prints them. */
import type { TensorReport } from '../methods/method.js';
import type { MergeEvent, MergeSummary } from '../pipeline/run.js';
import { formatBytes, formatRate, formatShape } from '../util/format.js';

/** `wrote OUT: N tensors merged, ...`: what was written, how long it took, how fast it read. */
export function describeSummary(summary: MergeSummary): string {
  return `wrote ${summary.outputPath}: ${summary.merged} tensors merged, ${describeWork(summary)}`;
}

/** `M copied, SIZE in S s (P passes, R read at RATE)`: the tail a merge's and a shard's last lines share. */
export function describeWork(summary: MergeSummary): string {
  return (
    `${summary.copied} copied, ${formatBytes(summary.outputBytes)} ` +
    `in ${summary.seconds.toFixed(2)} s (${summary.passes} pass${summary.passes === 1 ? '' : 'es'}, ${formatBytes(summary.inputBytesRead)} read at ${formatRate(summary.inputBytesRead, summary.seconds)})`
  );
}

/** `merged NAME [shape] DTYPE in S s (report)`, or `copied ...` for a tensor copied as bytes. */
export function describeTensor(e: Extract<MergeEvent, { type: 'tensor' }>): string {
  return `${e.method === 'copy' ? 'copied' : 'merged'} ${e.name} ${formatShape(e.shape)} ${e.dtype} in ${e.seconds.toFixed(3)} s${describeReport(e.report)}`;
}

/**
 * A tensor's report on its log line: the fallback, or the solve (subspace, status, iterations,
 * initial and final residual norms, core's note).
 */
export function describeReport(report: TensorReport | undefined): string {
  if (report === undefined) return '';
  if (report.fallback !== undefined) return ` (fallback: ${report.fallback})`;
  if (report.status === undefined) return '';
  const parts: string[] = [];
  if (typeof report.details?.subspace === 'string') parts.push(report.details.subspace);
  parts.push(report.status, `${report.iterations ?? '?'} iterations`);
  const norm = (v: number | undefined) => (v === undefined ? '?' : v.toExponential(2));
  if (report.residualNorm !== undefined) parts.push(`residual ${norm(report.initialResidualNorm)} -> ${norm(report.residualNorm)}`);
  if (typeof report.details?.note === 'string') parts.push(`note: ${report.details.note}`);
  return ` (${parts.join(', ')})`;
}
