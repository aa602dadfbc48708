/**
 * Which shard of a distributed merge this process is: `--shard I/N` (0-based I), or `--shard
 * auto` from the scheduler's environment:
 *   - Slurm job array (`sbatch --array=0-(N-1)`): I = SLURM_ARRAY_TASK_ID, N = --shards, else the
 *     config's distributed.shards, else SLURM_ARRAY_TASK_COUNT (a rerun of one task,
 *     `--array=3`, has a count of 1: pass --shards N there);
 *   - Kubernetes Indexed Job (completionMode: Indexed): I = JOB_COMPLETION_INDEX, N = --shards,
 *     else the config's distributed.shards (Kubernetes does not tell a pod the completion count).
 * Anything else is an error that says what is missing.
 */
import { UserError } from '../errors.js';
import type { ShardChoice } from '../pipeline/shard-merge.js';

const SHARD_FORM = '--shard takes I/N (0-based: 0/4, 1/4, 2/4, 3/4) or auto (from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX)';

/** A non-negative integer written in decimal, or undefined. */
function wholeNumber(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  const n = Number(text.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

/** --shards N: a positive integer. */
export function parseShardCount(text: string, where = '--shards'): number {
  const n = wholeNumber(text);
  if (n === undefined || n < 1) throw new UserError(`${where} takes a positive integer (the number of shards), got ${JSON.stringify(text)}`);
  return n;
}

function checked(index: number, count: number, from: string): ShardChoice {
  if (index >= count) throw new UserError(`${from}: shard ${index} does not exist in ${count} shard${count === 1 ? '' : 's'} (shards are numbered 0 to ${count - 1})`);
  return { index, count };
}

/**
 * The shard this process merges. shards: --shards; configShards: the config's
 * distributed.shards; env: process.env.
 */
export function resolveShard(value: string, shards: number | undefined, configShards: number | undefined, env: NodeJS.ProcessEnv): ShardChoice {
  const explicit = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value);
  if (explicit !== null) {
    const index = wholeNumber(explicit[1]);
    const count = wholeNumber(explicit[2]);
    if (index === undefined || count === undefined || count < 1) throw new UserError(`${SHARD_FORM}; got ${JSON.stringify(value)}`);
    if (shards !== undefined && shards !== count) throw new UserError(`--shard ${value} says ${count} shards, --shards says ${shards}`);
    return checked(index, count, `--shard ${value}`);
  }
  if (value.trim() !== 'auto') throw new UserError(`${SHARD_FORM}; got ${JSON.stringify(value)}`);

  const slurm = env.SLURM_ARRAY_TASK_ID;
  const kubernetes = env.JOB_COMPLETION_INDEX;
  if (slurm !== undefined && kubernetes !== undefined) {
    throw new UserError(`--shard auto: both SLURM_ARRAY_TASK_ID (${slurm}) and JOB_COMPLETION_INDEX (${kubernetes}) are set; give the shard as --shard I/N`);
  }
  if (slurm !== undefined) {
    const index = wholeNumber(slurm);
    if (index === undefined) throw new UserError(`--shard auto: SLURM_ARRAY_TASK_ID=${JSON.stringify(slurm)} is not a task index`);
    const countText = env.SLURM_ARRAY_TASK_COUNT;
    const count = shards ?? configShards ?? wholeNumber(countText);
    if (count === undefined || count < 1) {
      throw new UserError(`--shard auto: SLURM_ARRAY_TASK_ID is ${index} but the number of shards is unknown (SLURM_ARRAY_TASK_COUNT is ${countText === undefined ? 'not set' : JSON.stringify(countText)}); pass --shards N`);
    }
    if (shards === undefined && configShards === undefined && index >= count) {
      throw new UserError(
        `--shard auto: SLURM_ARRAY_TASK_ID=${index} but SLURM_ARRAY_TASK_COUNT=${count}: ${count === 1 ? 'a rerun of one task of the array? pass --shards N' : `submit the array as --array=0-${count - 1}, or pass --shards N`}`,
      );
    }
    return checked(index, count, `--shard auto (SLURM_ARRAY_TASK_ID=${index})`);
  }
  if (kubernetes !== undefined) {
    const index = wholeNumber(kubernetes);
    if (index === undefined) throw new UserError(`--shard auto: JOB_COMPLETION_INDEX=${JSON.stringify(kubernetes)} is not a completion index`);
    const count = shards ?? configShards;
    if (count === undefined) throw new UserError('--shard auto: JOB_COMPLETION_INDEX is set, but Kubernetes does not give the number of shards: pass --shards N (the Job\'s completions), or set distributed.shards in the config');
    return checked(index, count, `--shard auto (JOB_COMPLETION_INDEX=${index})`);
  }
  throw new UserError('--shard auto: neither SLURM_ARRAY_TASK_ID (a Slurm job array) nor JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set; outside a scheduler, give the shard as --shard I/N');
}
