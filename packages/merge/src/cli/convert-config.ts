/** `mats convert-config FILE`: the native config a mergekit config becomes, as YAML. */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';
import { parseConfig, readConfigFile, readYamlMapping } from '../config/load.js';
import { convertMergekitConfig, isMergekitConfig } from '../config/mergekit.js';
import { UserError, ValidationError } from '../errors.js';

export async function convertConfigFile(file: string, cwd = process.cwd()): Promise<{ text: string; notes: readonly string[] }> {
  const { path: full, text } = await readConfigFile(file);
  const raw = readYamlMapping(text, full);
  if (!isMergekitConfig(raw)) {
    throw new UserError(`${full} is not a mergekit config (no top-level merge_method); a mats config runs as it is: mats merge ${file}`);
  }
  const converted = convertMergekitConfig(raw, { cwd, configDir: dirname(full), exists: existsSync });
  if (converted.problems.length > 0) throw new ValidationError(`${full} is a mergekit config that mats cannot run as it is`, converted.problems);
  const yaml = stringify(converted.config);
  // The result must be a valid mats config: check it with the loader (methods and knobs).
  parseConfig(yaml, `${full} (converted)`, dirname(full));
  return { text: `# mats config converted from ${file} (mergekit); paths are relative to its folder\n${yaml}`, notes: converted.notes };
}
