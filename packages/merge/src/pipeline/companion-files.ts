/**
 * The plan's share of a Hugging Face folder out: which config and tokenizer files go beside the
 * tensors (checkpoint/hf-folder.ts), and for a mergekit config with tokenizer_source, the check
 * that mergekit's embedding rebuild would change nothing (config/mergekit-tokenizer.ts).
 */
import { outputTorchDtype, planCompanionFiles, type CompanionFile } from '../checkpoint/hf-folder.js';
import type { MergeConfig } from '../config/load.js';
import { isEmbedding, tokenizerSourceProblems } from '../config/mergekit-tokenizer.js';
import type { PlannedTensor } from './sources.js';

export async function planOutputFolderFiles(config: MergeConfig, tensors: readonly PlannedTensor[], problems: { add(line: string): void }): Promise<CompanionFile[]> {
  const donor = config.base ?? config.models[0]?.path;
  if (donor === undefined) return [];
  const found: string[] = [];
  const torchDtype = outputTorchDtype(tensors.filter((t) => t.action === 'merge').map((t) => t.outputDtype));
  const files = await planCompanionFiles(donor, config.output.tokenizerSource, torchDtype, found);
  if (config.format === 'mergekit' && config.output.tokenizerSource !== undefined) {
    const inputs = [...(config.base !== undefined ? [{ role: 'base', folder: config.base }] : []), ...config.models.map((m, i) => ({ role: `models[${i}]`, folder: m.path }))];
    const embeddings = tensors.filter((t) => isEmbedding(t.name) && t.shape.length === 2).map((t) => ({ name: t.name, rows: t.shape[0] }));
    found.push(...(await tokenizerSourceProblems(config.output.tokenizerSource, inputs, embeddings)));
  }
  for (const p of found) problems.add(p);
  return files;
}
