/**
 * The line about a temporary folder of an earlier merge, kept apart from temporary-folders.ts
 * (which reads the file system) so that the dry run's text has no Node in it.
 */
import { formatBytes } from '../util/format.js';
import type { TemporaryFolder } from './temporary-folders.js';

/** The line a merge, --dry-run and validate print about a temporary folder it found. */
export function describeTemporaryFolder(folder: TemporaryFolder): string {
  const what = `temporary folder ${folder.path} (${formatBytes(folder.bytes)}) left by an earlier merge`;
  if (folder.state === 'stale') return `${what}: ${folder.reason}; mats merge removes it before writing`;
  return `warning: ${what}: ${folder.reason}; if no merge is writing it, remove it: rm -r '${folder.path}'`;
}
