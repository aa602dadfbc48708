/**
 * An output must never replace an input, with or without --force: not a model folder (or file),
 * not a folder that holds a model or a statistics file, not the config. Paths are compared after
 * resolving symbolic links, so `--out link-to-base` is caught too.
 */
import { realpath } from 'node:fs/promises';
import { sep } from 'node:path';

export interface NamedInput {
  /** "models[1]", "models[0].stats", "base", "the config". */
  readonly role: string;
  readonly path: string;
}

const real = (path: string) => realpath(path).catch(() => undefined);

/**
 * The problems of writing to output: one line per input that output is, or holds. Empty when
 * output does not exist (then it holds nothing).
 */
export async function outputOverlapsInputs(output: string, inputs: readonly NamedInput[]): Promise<string[]> {
  const out = await real(output);
  if (out === undefined) return [];
  const problems: string[] = [];
  for (const input of inputs) {
    const path = await real(input.path);
    if (path === undefined) continue; // a missing input is reported where it is opened
    if (path === out) problems.push(`output ${output} is ${input.role} (${input.path}); refusing to write over an input, even with --force: choose another output path`);
    else if (path.startsWith(out.endsWith(sep) ? out : out + sep)) {
      problems.push(`output ${output} holds ${input.role} (${input.path}); refusing to replace it, even with --force: choose another output path`);
    }
  }
  return problems;
}
