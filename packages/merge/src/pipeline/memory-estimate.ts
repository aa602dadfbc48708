/**
 * The dry run's estimate of a merge's peak resident memory: this process as it is when the plan
 * is made (Node, the modules, the backend, the open headers), plus, at the job that needs the
 * most, everything the run holds at once:
 *   - the job's inputs in the compute precision (base and models; statistics), and the next
 *     job's, which are read while this one computes (pipeline/run.ts reads one job ahead);
 *   - a staging copy of one input when its dtype is not the precision (F16 read as float32);
 *   - the method's working arrays, its result included (MergeMethod.workingBytes);
 *   - the result encoded in the output dtype (none when the result already has it);
 * plus dead buffers not yet collected. V8 starts collecting dead ArrayBuffers once external
 * memory has grown by 64 MB (v8-internal.h, kExternalAllocationSoftLimit) and frees them while
 * the merge goes on; a job's buffers that die young go sooner. 32 MB, half that limit, is what
 * the merges of test/memory-estimate.test.ts leave outstanding at their peak (30 MB measured):
 * a measured allowance, not a derived one, and never more than the run allocates in all.
 * Checked on other merges in bench/src/merge-memory.ts (the bench's generated checkpoints and
 * the demo's; the merge README has the table).
 *
 * A task-subspace method also holds copies of one model's statistics (MergeMethod.workingBytes
 * gets their size), and its backend's worker threads: the plan starts them before it measures
 * this process (pipeline/plan.ts).
 */
import type { SafetensorsDType } from '../safetensors/dtype.js';
import { dtypeBytes, isReadableDType } from '../safetensors/dtype.js';
import { bindingsInOrder, workingBytes, type MethodBinding } from './bind.js';
import type { PlannedTensor } from './sources.js';

/** Dead ArrayBuffers V8 has not collected yet at a merge's peak (see above). */
export const DEAD_BUFFER_ALLOWANCE_BYTES = 32 * 2 ** 20;

export interface MemoryEstimate {
  /** Estimated peak resident set size of the process running the merge. */
  readonly peakBytes: number;
  /** The resident set size when the plan was made (Node, modules, backend, headers). */
  readonly baselineBytes: number;
  /** peakBytes - baselineBytes: what the merge adds at its peak. */
  readonly workingBytes: number;
  /** The tensor whose job sets the peak. */
  readonly peakTensor: string;
}

export interface MemoryInputs {
  readonly tensors: readonly PlannedTensor[];
  readonly binding: MethodBinding;
  readonly elementwise: boolean;
  readonly chunkElements: number;
  /** 4 for float32, 8 for float64. */
  readonly precisionBytes: number;
  readonly usesBase: boolean;
  /** The process's resident set size now (process.memoryUsage().rss). */
  readonly baselineBytes: number;
}

const widthOf = (dtype: SafetensorsDType) => (isReadableDType(dtype) ? dtypeBytes(dtype) : 1);

/** Bytes of the values a method returns, encoded for writing: a new array unless the result is already float64 for F64. */
const encodedBytes = (length: number, dtype: SafetensorsDType) => (dtype === 'F64' ? 0 : length * widthOf(dtype));

export function estimateMemory(m: MemoryInputs): MemoryEstimate {
  // The jobs in run order, with the bytes of their inputs once read.
  // repeat: how many jobs of the run this one stands for (the chunks of a tensor but its last).
  const jobs: { tensor: PlannedTensor; length: number; inputs: number; statisticElements: number; repeat: number }[] = [];
  for (const t of m.tensors) {
    if (t.action === 'copy') {
      jobs.push({ tensor: t, length: t.size, inputs: t.size * widthOf(t.dtype), statisticElements: 0, repeat: 1 });
      continue;
    }
    const step = m.elementwise ? Math.min(t.size, m.chunkElements) : t.size;
    const readers = t.models.length + (m.usesBase ? 1 : 0);
    const chunks = Math.max(1, Math.ceil(t.size / Math.max(step, 1)));
    // Every chunk of a tensor is alike but the last; two are enough to see the one ahead.
    for (let c = 0; c < Math.min(chunks, 2); c++) {
      const length = Math.min(step, t.size - c * step);
      // A statistic of the tensor's own shape is read for the job's range, a Gram whole.
      const elements = (s: { shape: readonly number[] }) => (s.shape.length === t.shape.length && s.shape.every((d, k) => d === t.shape[k]) ? length : s.shape.reduce((a, b) => a * b, 1));
      const perModel = t.statistics.map((stats) => [...stats.values()].reduce((sum, s) => sum + elements(s), 0));
      const stats = perModel.reduce((a, b) => a + b, 0) * m.precisionBytes;
      jobs.push({ tensor: t, length, inputs: readers * length * m.precisionBytes + stats, statisticElements: Math.max(0, ...perModel), repeat: c === 0 && chunks > 1 ? chunks - 1 : 1 });
    }
  }
  let peak = 0;
  let peakTensor = '';
  // What the run allocates in all: dead buffers cannot exceed it.
  let allocated = 0;
  jobs.forEach((job, k) => {
    const t = job.tensor;
    let bytes: number;
    if (t.action === 'copy') bytes = job.inputs;
    else {
      const ahead = jobs[k + 1]?.tensor.action === 'merge' ? jobs[k + 1].inputs : 0;
      const staging = widthOf(t.dtype) === m.precisionBytes ? 0 : job.length * widthOf(t.dtype);
      const own = job.inputs + staging + workingBytes(m.binding, job.length, t.models.length, m.precisionBytes, job.statisticElements) + encodedBytes(job.length, t.outputDtype);
      allocated += own * job.repeat;
      bytes = own + ahead;
    }
    if (bytes > peak) {
      peak = bytes;
      peakTensor = t.name;
    }
  });
  // Whole-model passes read (and allocate) it all again: TIES's radix select takes up to 2
  // passes in float32 and 4 in float64, plus the majority sign's (methods/ties.ts).
  const wholeModel = bindingsInOrder(m.binding).some((b) => b.method.wholeModel?.(b.parameters) === true);
  const passes = 1 + (wholeModel ? (m.precisionBytes === 8 ? 5 : 3) : 0);
  const working = peak + Math.min(DEAD_BUFFER_ALLOWANCE_BYTES, allocated * passes);
  return { peakBytes: m.baselineBytes + working, baselineBytes: m.baselineBytes, workingBytes: working, peakTensor };
}
