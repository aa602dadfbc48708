/** The text of `mats merge --dry-run` and `mats validate`. */
import { dirname } from 'node:path';
import { describeTemporaryFolder } from '../checkpoint/temporary-folders.js';
import { bindingsInOrder } from '../pipeline/bind.js';
import type { MergePlan } from '../pipeline/plan.js';
import { formatBytes, formatShape } from '../util/format.js';

export function describePlan(plan: MergePlan, withTensors: boolean): string {
  const c = plan.config;
  const lines: string[] = [];
  lines.push(`config: ${c.source}`);
  lines.push(`method: ${plan.binding.method.name} ${JSON.stringify(plan.binding.parameters)}`);
  for (const [key, n] of Object.entries(plan.binding.nested)) lines.push(`  ${key}: ${n.method.name} ${JSON.stringify(n.parameters)}`);
  lines.push(`base: ${c.base ?? '(none)'}`);
  const show = (v: unknown) => (typeof v === 'number' ? String(v) : JSON.stringify(v));
  c.models.forEach((m, i) => {
    const knobs = Object.entries(m.parameters).map(([k, v]) => `, ${k} ${show(v)}`).join('');
    lines.push(`models[${i}]: ${m.path} (weight ${show(m.weight)}${knobs}${m.stats !== undefined ? `, stats ${m.stats}` : ''})`);
  });
  if (plan.settings.perTensor.length > 0) lines.push(`per-tensor values: ${plan.settings.perTensor.join(', ')} (${plan.settings.bindings.length} distinct parameter sets)`);
  lines.push(`backend: ${plan.backend.name} (${plan.backend.mode}), precision ${c.precision}, seed ${c.seed}`);
  const copied = plan.tensors.length - plan.merged.length;
  lines.push(`tensors: ${plan.tensors.length} (${plan.merged.length} merged, ${copied} copied from the ${c.base !== undefined ? 'base' : 'first model'})`);
  if (plan.elementwise) lines.push(`jobs: elementwise, in chunks of up to ${plan.chunkElements} elements`);
  // A method with prepare() and no wholeModel() is assumed to make passes.
  const preparing = bindingsInOrder(plan.binding).some((b) => b.method.prepare !== undefined && (b.method.wholeModel?.(b.parameters) ?? true));
  if (preparing) lines.push('preparation: whole-model passes before the merge (e.g. the TIES global trim threshold)');
  if (withTensors) {
    const width = Math.max(6, ...plan.tensors.map((t) => t.name.length));
    lines.push('');
    lines.push(`${'tensor'.padEnd(width)}  ${'shape'.padEnd(16)}  ${'dtype'.padEnd(11)}  action`);
    for (const t of plan.tensors) {
      const dtype = t.dtype === t.outputDtype ? t.dtype : `${t.dtype}->${t.outputDtype}`;
      const action = t.action === 'copy' ? 'copy' : plan.binding.method.name;
      const aliases = t.models.filter((m) => m.name !== t.name).map((m) => m.name);
      lines.push(`${t.name.padEnd(width)}  ${formatShape(t.shape).padEnd(16)}  ${dtype.padEnd(11)}  ${action}${aliases.length > 0 ? ` (tied: read as ${[...new Set(aliases)].join(', ')})` : ''}`);
    }
    lines.push('');
  }
  const m = plan.memory;
  lines.push(`estimated peak memory: ${formatBytes(m.peakBytes)} resident (this process now ${formatBytes(m.baselineBytes)}, the merge ${formatBytes(m.workingBytes)} at ${m.peakTensor || 'its start'})`);
  lines.push(`input to read: ${formatBytes(plan.inputBytes)} per pass`);
  lines.push(`output: ${plan.outputPath}, ${formatBytes(plan.outputBytes)} in ${plan.shards.length} file${plan.shards.length === 1 ? '' : 's'}${plan.force ? ' (replacing what is there: --force)' : ''}`);
  if (plan.companionFiles.length > 0) lines.push(`also written: ${plan.companionFiles.map((f) => f.name).join(', ')} (from ${[...new Set(plan.companionFiles.map((f) => dirname(f.from)))].join(', ')})`);
  if (plan.allowNonFinite) lines.push('non-finite values: allowed (--allow-nonfinite): NaN and Inf are merged with a warning');
  for (const folder of plan.temporaryFolders) lines.push(describeTemporaryFolder(folder));
  lines.push(...plan.warnings);
  return lines.join('\n');
}
