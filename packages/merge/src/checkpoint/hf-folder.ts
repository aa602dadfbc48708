/**
 * A Hugging Face model folder out: beside the tensors, the files `from_pretrained(OUT)` needs.
 * When the base (or, without one, the first model) is a folder, its config.json (with
 * torch_dtype set to the output's dtype) and generation_config.json are copied, and the
 * tokenizer files from `output.tokenizer_source` (default: that same folder), as mergekit does
 * (merge.py: _copy_tokenizer, _model_out_config).
 */
import { copyFile, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { SafetensorsDType } from '../safetensors/dtype.js';

export const MODEL_CONFIG_FILES = ['config.json', 'generation_config.json'] as const;

/** Tokenizer files transformers reads (and mergekit copies), plus the vocab.* of BERT/GPT-2-style tokenizers. */
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'tokenizer.model', 'added_tokens.json', 'merges.txt', 'chat_template.jinja', 'chat_template.json'] as const;

const isVocabFile = (name: string) => /^vocab\.[^/\\]+$/.test(name);

/** Whether a file of an output folder is one this module writes (a previous output may be replaced). */
export function isCompanionFile(name: string): boolean {
  return (MODEL_CONFIG_FILES as readonly string[]).includes(name) || (TOKENIZER_FILES as readonly string[]).includes(name) || isVocabFile(name);
}

/** A file to put beside the tensors: copied from `from`, or written from `text`. */
export interface CompanionFile {
  readonly name: string;
  /** The file it comes from (absolute). */
  readonly from: string;
  /** The contents to write instead of a copy (config.json with its dtype changed). */
  readonly text?: string;
}

const TORCH_DTYPES: Partial<Record<SafetensorsDType, string>> = { F64: 'float64', F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

async function isFolder(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** torch_dtype of the output: the one float dtype every merged tensor is written in, if there is one. */
export function outputTorchDtype(mergedDtypes: readonly SafetensorsDType[]): string | undefined {
  const names = new Set(mergedDtypes.map((d) => TORCH_DTYPES[d]));
  return names.size === 1 ? [...names][0] : undefined;
}

/**
 * The files to copy. donor: the base, or the first model (a folder or a file); tokenizerSource:
 * the folder to take tokenizer files from. Problems (an unreadable config.json, a
 * tokenizer_source without tokenizer files) are pushed, named by file.
 */
export async function planCompanionFiles(donor: string, tokenizerSource: string | undefined, torchDtype: string | undefined, problems: string[]): Promise<CompanionFile[]> {
  const files: CompanionFile[] = [];
  if (await isFolder(donor)) {
    const names = new Set(await readdir(donor));
    for (const name of MODEL_CONFIG_FILES) {
      if (!names.has(name)) continue;
      const from = join(donor, name);
      if (name === 'config.json') {
        const text = await withDtype(from, torchDtype, problems);
        if (text !== undefined) files.push({ name, from, text });
      } else files.push({ name, from });
    }
  }
  const source = tokenizerSource ?? donor;
  if (tokenizerSource !== undefined && !(await isFolder(tokenizerSource))) {
    problems.push(`output.tokenizer_source: ${tokenizerSource} is not a folder`);
    return files;
  }
  if (!(await isFolder(source))) return files;
  const tokenizer = (await readdir(source)).filter((n) => (TOKENIZER_FILES as readonly string[]).includes(n) || isVocabFile(n)).sort();
  if (tokenizerSource !== undefined && tokenizer.length === 0) problems.push(`output.tokenizer_source: ${tokenizerSource} has no tokenizer files (${TOKENIZER_FILES.slice(0, 4).join(', ')}, ...)`);
  for (const name of tokenizer) files.push({ name, from: join(source, name) });
  return files;
}

/** config.json with torch_dtype (and transformers' newer `dtype`, when present) set. */
async function withDtype(file: string, torchDtype: string | undefined, problems: string[]): Promise<string | undefined> {
  const text = await readFile(file, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    problems.push(`${file}: not valid JSON (${(e as Error).message}); it is copied into the output, so it must parse`);
    return undefined;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    problems.push(`${file}: not a JSON object`);
    return undefined;
  }
  if (torchDtype === undefined) return text;
  const config = json as Record<string, unknown>;
  config.torch_dtype = torchDtype;
  if ('dtype' in config) config.dtype = torchDtype;
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** Writes the files into folder (the output's temporary folder, before it is renamed into place). */
export async function writeCompanionFiles(folder: string, files: readonly CompanionFile[]): Promise<void> {
  for (const f of files) {
    const target = join(folder, basename(f.name));
    if (f.text !== undefined) await writeFile(target, f.text);
    else await copyFile(f.from, target);
  }
}
