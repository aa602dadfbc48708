/**
 * The merge worker: the CLI's engine (@mats/merge/browser: parseConfig, planMerge, runMerge)
 * over the dropped files, off the page's thread. Inputs are read by File.slice as tensors are
 * needed; the output goes to the Origin Private File System (or to Blobs in memory). Messages
 * are worded as the CLI prints them, so a failure reads the same in both places.
 */
import { z } from 'zod';
import {
  BlobInputFiles,
  BlobOutputTarget,
  PACKAGE_VERSION,
  UserError,
  allMethods,
  describePlan,
  describeSummary,
  describeTensor,
  formatBytes,
  parseConfig,
  planMerge,
  runMerge,
  type MergeEvent,
  type MergeIo,
  type MergePlan,
} from '@mats/merge/browser';
import type { FromWorker, KnobsSchema, MergeRequest, MethodInfo, OutputFile, ToWorker } from '../shared/protocol.js';
import { OpfsOutputTarget } from './opfs-output.js';

declare const self: DedicatedWorkerGlobalScope;

/** The config's name in messages: the page's config is merge.yaml at the root of the dropped files. */
const CONFIG_NAME = 'merge.yaml';

const post = (message: FromWorker) => self.postMessage(message);

/**
 * Elements per job of an elementwise method here: 2^20 (4 MB of float32 per input), not the
 * CLI's 2^18, because every read is a Blob.slice answered by the browser process and fewer,
 * larger reads pay. Measured with `npm run web:memory 0.27` (task arithmetic of 3 x 268 MB),
 * side by side on a loaded 2-core machine: 2^18 100-127 s, 2^20 73-78 s, 2^22 63-77 s, with the
 * renderer's peak resident memory at 0.26, 0.28-0.30 and 0.47-0.57 GB. An elementwise merge does
 * not depend on the chunk size, so the bytes are still the CLI's.
 */
const CHUNK_ELEMENTS = 1 << 20;

/** The running merge's stop switch. */
let controller: AbortController | undefined;

/** The CLI's wording of a failure (run-cli.ts): 'error: ' for the user's problems, 'internal error: ' for bugs. */
function failure(e: unknown, cancelled: boolean): FromWorker {
  if (e instanceof UserError) return { type: 'failed', message: `error: ${e.message}`, cancelled };
  const err = e as Error;
  return { type: 'failed', message: `internal error: ${err?.message ?? String(e)}\nthis is a bug in mats; the browser console has the stack trace`, cancelled };
}

async function open(request: MergeRequest, output: MergeIo['output']): Promise<MergePlan> {
  const inputs = new BlobInputFiles(request.files);
  const config = parseConfig(request.configText, CONFIG_NAME, '', { inputs });
  return planMerge(config, { io: { inputs, output }, chunkElements: CHUNK_ELEMENTS });
}

async function dryRun(request: MergeRequest): Promise<void> {
  const plan = await open(request, new BlobOutputTarget());
  try {
    post({ type: 'planned', text: `${describePlan(plan, true)}\ndry run: nothing written` });
  } finally {
    await plan.close();
  }
}

function forward(event: MergeEvent): void {
  if (event.type === 'phase') {
    post({ type: 'phase', label: event.label, totalBytes: event.totalBytes });
    post({ type: 'line', text: `${event.label}: ${formatBytes(event.totalBytes)} to read` });
  } else if (event.type === 'progress') {
    post({ type: 'progress', doneBytes: event.doneBytes, totalBytes: event.totalBytes });
  } else if (event.type === 'log') {
    post({ type: 'line', text: event.message });
  } else if (event.type === 'tensor') {
    post({ type: 'line', text: describeTensor(event) });
  }
  // 'output' names the file system's temporary folder, for the CLI's supervisor: none here.
}

async function merge(request: MergeRequest, signal: AbortSignal): Promise<void> {
  let disk: OpfsOutputTarget | undefined;
  if (request.storage === 'disk') {
    const opened = await OpfsOutputTarget.open();
    if ('problem' in opened) post({ type: 'line', text: `output: kept in memory: ${opened.problem}` });
    else disk = opened;
  }
  const memory = disk === undefined ? new BlobOutputTarget() : undefined;
  const plan = await open(request, disk ?? memory!);
  try {
    post({ type: 'line', text: `backend: ${plan.backend.name} (${plan.backend.mode}), precision ${plan.config.precision}` });
    const summary = await runMerge(plan, { onEvent: forward, signal });
    const files: OutputFile[] = disk !== undefined ? await disk.last!.files() : [...memory!.outputs.get(plan.outputPath)!].map(([name, file]) => ({ name, file }));
    post({
      type: 'done',
      files,
      storage: disk !== undefined ? 'disk' : 'memory',
      summary: describeSummary(summary),
    });
  } finally {
    await plan.close();
  }
}

/** Every registered method with the JSON Schema of its knobs, so the form cannot drift from the config loader. */
function methods(): MethodInfo[] {
  return allMethods().map((m) => ({
    name: m.name,
    summary: m.summary,
    usesStatistics: m.statistics !== undefined,
    knobs: z.toJSONSchema(m.parameters, { io: 'input', unrepresentable: 'any' }) as KnobsSchema,
  }));
}

post({ type: 'ready', version: PACKAGE_VERSION, methods: methods() });

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.type === 'cancel') {
    controller?.abort();
    return;
  }
  // Set before planning, so that a cancel during the checks stops the merge before it writes.
  const own = new AbortController();
  controller = own;
  try {
    if (message.type === 'plan') await dryRun(message.request);
    else await merge(message.request, own.signal);
  } catch (e) {
    if (!(e instanceof UserError)) console.error(e);
    post(failure(e, own.signal.aborted));
  } finally {
    if (controller === own) controller = undefined;
  }
};
