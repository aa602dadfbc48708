/**
 * The merge page: inputs dropped or picked, a method and its knobs, the config they make, and
 * the merge itself in a worker (merge-worker.ts) with progress, cancel and downloads.
 * body[data-state] says where the page is: loading, ready, checking, checked, merging, done,
 * failed, cancelled.
 */
import { configText, type MergeForm } from '../shared/config-text.js';
import { OPFS_FOLDER, type FromWorker, type MergeRequest, type MethodInfo, type OutputFile, type ToWorker } from '../shared/protocol.js';
import { foundInDrop, foundInPicker, nameInputs, type Input } from './inputs.js';
import { readKnobs, renderKnobs } from './knobs.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

interface ModelRow {
  readonly input: Input;
  readonly weight: HTMLInputElement;
  stats?: Input;
  readonly row: HTMLTableRowElement;
}

let methods: readonly MethodInfo[] = [];
let base: Input | undefined;
const models: ModelRow[] = [];
/** Every path in use among the dropped files (names are unique). */
const taken = new Set<string>();
let objectUrls: string[] = [];
let configUrl: string | undefined;
let outputFiles: readonly OutputFile[] = [];

function setState(state: string): void {
  document.body.dataset.state = state;
  const busy = state === 'checking' || state === 'merging' || state === 'loading';
  $<HTMLButtonElement>('check').disabled = busy;
  $<HTMLButtonElement>('merge').disabled = busy;
  $<HTMLButtonElement>('cancel').disabled = state !== 'merging';
}

/** Decimal units, as the CLI's formatBytes writes them. */
const sizeText = (bytes: number) => (bytes < 1e3 ? `${bytes} B` : bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} KB` : bytes < 1e9 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e9).toFixed(2)} GB`);

function release(input: Input | undefined): void {
  if (input !== undefined) taken.delete(input.path);
}

function showBase(): void {
  $('base-chosen').textContent = base === undefined ? '' : `${base.path}${base.kind === 'folder' ? '/' : ''} (${sizeText(base.bytes)})`;
  refresh();
}

function setBase(found: Parameters<typeof nameInputs>[0]): void {
  if (found.length === 0) return;
  release(base);
  [base] = nameInputs(found.slice(0, 1), taken);
  showBase();
}

function addModels(found: Parameters<typeof nameInputs>[0]): void {
  for (const input of nameInputs(found, taken)) {
    const row = document.createElement('tr');
    const weight = document.createElement('input');
    weight.inputMode = 'decimal';
    weight.placeholder = '1';
    weight.className = 'weight';
    weight.addEventListener('input', refresh);
    const statsCell = document.createElement('td');
    statsCell.className = 'stats-column';
    const statsName = document.createElement('span');
    const statsPicker = document.createElement('input');
    statsPicker.type = 'file';
    statsPicker.accept = '.safetensors';
    statsPicker.className = 'stats';
    const entry: ModelRow = { input, weight, row };
    statsPicker.addEventListener('change', () => {
      release(entry.stats);
      [entry.stats] = nameInputs(foundInPicker(statsPicker), taken);
      statsName.textContent = entry.stats === undefined ? '' : `${entry.stats.path} `;
      refresh();
    });
    statsPicker.hidden = true;
    const statsButton = document.createElement('label');
    statsButton.className = 'button';
    statsButton.append('choose…', statsPicker);
    statsCell.append(statsName, statsButton);
    const remove = document.createElement('button');
    remove.textContent = 'remove';
    remove.addEventListener('click', () => {
      release(entry.input);
      release(entry.stats);
      models.splice(models.indexOf(entry), 1);
      row.remove();
      refresh();
    });
    const cells = [`${input.path}${input.kind === 'folder' ? '/' : ''}`, sizeText(input.bytes)].map((text, i) => {
      const td = document.createElement('td');
      td.textContent = text;
      if (i === 0) td.className = 'path';
      return td;
    });
    const weightCell = document.createElement('td');
    weightCell.append(weight);
    const removeCell = document.createElement('td');
    removeCell.append(remove);
    row.append(...cells, weightCell, statsCell, removeCell);
    $('models').querySelector('tbody')!.append(row);
    models.push(entry);
  }
  refresh();
}

function selectedMethod(): MethodInfo | undefined {
  return methods.find((m) => m.name === $<HTMLSelectElement>('method').value);
}

/** The form as a config, or the problems that keep it from being one. */
function form(): { form: MergeForm; problems: string[] } {
  const knobs = readKnobs($('knobs'));
  const problems = [...knobs.problems];
  if (models.length === 0) problems.push('models: drop at least one fine-tuned model');
  const withStats = selectedMethod()?.usesStatistics ?? false;
  /** A number field: undefined when empty; NaN (and a problem naming the key) when not a number. */
  const number = (text: string, key: string): number | undefined => {
    if (text.trim() === '') return undefined;
    const n = Number(text);
    if (Number.isNaN(n)) problems.push(`${key}: ${JSON.stringify(text.trim())} is not a number`);
    return n;
  };
  const seed = number($<HTMLInputElement>('seed').value, 'seed') ?? 0;
  return {
    problems,
    form: {
      method: $<HTMLSelectElement>('method').value,
      base: base?.path,
      models: models.map((m, i) => ({ path: m.input.path, weight: number(m.weight.value, `models[${i}].weight`), stats: withStats ? m.stats?.path : undefined })),
      parameters: knobs.values,
      output: { path: $<HTMLInputElement>('output-name').value.trim() || 'merged', dtype: $<HTMLSelectElement>('dtype').value, shardSize: $<HTMLInputElement>('shard-size').value.trim() },
      precision: $<HTMLSelectElement>('precision').value as 'float32' | 'float64',
      seed,
    },
  };
}

/** Redraws what follows from the form: the config and its download. */
function refresh(): void {
  const method = selectedMethod();
  if (method !== undefined) {
    $('method-summary').textContent = method.summary;
    if (method.usesStatistics) document.body.dataset.statistics = '';
    else delete document.body.dataset.statistics;
  }
  const text = configText(form().form);
  $('config').textContent = text;
  if (configUrl !== undefined) URL.revokeObjectURL(configUrl);
  configUrl = URL.createObjectURL(new Blob([text], { type: 'text/yaml' }));
  $<HTMLAnchorElement>('config-download').href = configUrl;
}

function request(): MergeRequest | undefined {
  const { form: f, problems } = form();
  if (problems.length > 0) {
    showError(`error: the form is not a config yet:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    return undefined;
  }
  // Every dropped file: the engine opens only those the config names.
  const files = [...(base?.files ?? []), ...models.flatMap((m) => [...m.input.files, ...(m.stats?.files ?? [])])];
  return { configText: configText(f), files, storage: $<HTMLSelectElement>('storage').value as 'disk' | 'memory' };
}

function showError(text: string | undefined): void {
  const error = $('error');
  error.hidden = text === undefined;
  error.textContent = text ?? '';
}

function appendLog(line: string): void {
  $('log').textContent += `${line}\n`;
}

function clearResult(): void {
  for (const url of objectUrls) URL.revokeObjectURL(url);
  objectUrls = [];
  outputFiles = [];
  $('download-list').replaceChildren();
  $('downloads').hidden = true;
  showError(undefined);
  $<HTMLProgressElement>('progress').value = 0;
  $('progress-label').textContent = '';
}

function showDownloads(files: readonly OutputFile[], storage: string, summary: string): void {
  outputFiles = files;
  $('summary').textContent = `${summary}; kept ${storage === 'disk' ? "in the browser's storage on disk" : 'in memory'} until you download it:`;
  const list = $('download-list');
  for (const { name, file } of files) {
    const url = URL.createObjectURL(file);
    objectUrls.push(url);
    const link = document.createElement('a');
    link.href = url;
    link.download = name;
    link.textContent = name;
    const item = document.createElement('li');
    item.append(link, ` (${sizeText(file.size)})`);
    list.append(item);
  }
  $('save-folder').hidden = !('showDirectoryPicker' in window);
  $('downloads').hidden = false;
}

// ---- the worker ----

let worker: Worker;
let cancelTimer: number | undefined;

function onWorkerMessage(event: MessageEvent<FromWorker>): void {
  const m = event.data;
  switch (m.type) {
    case 'ready':
      methods = m.methods;
      $('version').textContent = `(@mats/merge ${m.version})`;
      $<HTMLSelectElement>('method').replaceChildren(...methods.map((x) => new Option(x.name, x.name)));
      renderKnobs($('knobs'), methods[0].knobs);
      refresh();
      setState('ready');
      return;
    case 'planned':
      $('plan').textContent = m.text;
      $<HTMLDetailsElement>('plan-details').open = true;
      setState('checked');
      return;
    case 'phase':
      $('progress-label').textContent = `${m.label}: 0 of ${sizeText(m.totalBytes)}`;
      $<HTMLProgressElement>('progress').value = 0;
      return;
    case 'progress': {
      $<HTMLProgressElement>('progress').value = m.totalBytes > 0 ? m.doneBytes / m.totalBytes : 1;
      const label = $('progress-label').textContent?.split(':')[0] ?? '';
      $('progress-label').textContent = `${label}: ${sizeText(m.doneBytes)} of ${sizeText(m.totalBytes)}`;
      return;
    }
    case 'line':
      appendLog(m.text);
      return;
    case 'done':
      window.clearTimeout(cancelTimer);
      appendLog(m.summary);
      showDownloads(m.files, m.storage, m.summary);
      setState('done');
      return;
    case 'failed':
      window.clearTimeout(cancelTimer);
      showError(m.message);
      appendLog(m.message);
      setState(m.cancelled ? 'cancelled' : 'failed');
      return;
  }
}

function startWorker(): void {
  worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = onWorkerMessage;
  worker.onerror = (e) => {
    showError(`internal error: the merge worker failed: ${e.message}`);
    setState('failed');
  };
}

const send = (message: ToWorker) => worker.postMessage(message);

function run(type: 'plan' | 'merge'): void {
  const r = request();
  if (r === undefined) {
    setState('failed');
    return;
  }
  clearResult();
  $('log').textContent = '';
  if (type === 'merge') $<HTMLDetailsElement>('log-details').open = true;
  setState(type === 'plan' ? 'checking' : 'merging');
  send({ type, request: r });
}

/**
 * Cancel stops the merge between two tensors (the worker removes what it wrote). A long solve
 * does not look at the switch: after 5 s the worker is stopped outright and the page removes
 * its output folder itself.
 */
function cancel(): void {
  send({ type: 'cancel' });
  cancelTimer = window.setTimeout(async () => {
    worker.terminate();
    const origin = await navigator.storage.getDirectory();
    await origin.removeEntry(OPFS_FOLDER, { recursive: true }).catch(() => undefined);
    showError('error: merge interrupted; the worker did not stop within 5 s, so it was ended and its output removed');
    setState('cancelled');
    startWorker();
  }, 5000);
}

interface DirectoryPicker {
  showDirectoryPicker(options: { mode: 'readwrite' }): Promise<FileSystemDirectoryHandle>;
}

/** Chromium's File System Access API: copies the output into a folder the user picks, streaming from disk. */
async function saveToFolder(): Promise<void> {
  const parent = await (window as unknown as DirectoryPicker).showDirectoryPicker({ mode: 'readwrite' });
  const folder = await parent.getDirectoryHandle($<HTMLInputElement>('output-name').value.trim() || 'merged', { create: true });
  for (const { name, file } of outputFiles) {
    const writable = await (await folder.getFileHandle(name, { create: true })).createWritable();
    await file.stream().pipeTo(writable);
  }
  appendLog(`saved ${outputFiles.length} file(s) to the folder ${folder.name}`);
}

// ---- wiring ----

function dropZone(id: string, take: (found: Awaited<ReturnType<typeof foundInDrop>>) => void): void {
  const zone = $(id);
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    if (e.dataTransfer !== null) foundInDrop(e.dataTransfer).then(take, (err: Error) => showError(`error: cannot read what was dropped: ${err.message}`));
  });
}

function picker(id: string, take: (found: ReturnType<typeof foundInPicker>) => void): void {
  const input = $<HTMLInputElement>(id);
  input.addEventListener('change', () => {
    take(foundInPicker(input));
    input.value = '';
  });
}

dropZone('base-drop', setBase);
dropZone('models-drop', addModels);
picker('base-file', setBase);
picker('base-folder', setBase);
picker('models-files', addModels);
picker('models-folder', addModels);
$('method').addEventListener('change', () => {
  renderKnobs($('knobs'), selectedMethod()!.knobs);
  refresh();
});
for (const id of ['knobs', 'output-section']) {
  $(id).addEventListener('input', refresh);
  $(id).addEventListener('change', refresh);
}
$('check').addEventListener('click', () => run('plan'));
$('merge').addEventListener('click', () => run('merge'));
$('cancel').addEventListener('click', cancel);
$('save-folder').addEventListener('click', () => saveToFolder().catch((e: Error) => e.name !== 'AbortError' && showError(`error: cannot save: ${e.message}`)));

setState('loading');
startWorker();
