/**
 * The distributed-merge recipes in examples/distributed hold together: the Kubernetes Indexed Job
 * runs as many shards as it has completions (and as --shards says), its pods and the gather Job
 * mount the claim the manifest defines, and the shell scripts parse (bash -n). The Slurm recipe
 * itself runs in examples/distributed/slurm-local-test.sh, which CI (.ci/run) installs Slurm for
 * and runs as a step that fails CI when it fails; the variables it relies on, in
 * test/distributed-merge.e2e.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const here = fileURLToPath(new URL('../examples/distributed/', import.meta.url));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Manifest = any;

async function manifests(file: string): Promise<Manifest[]> {
  return parseAllDocuments(await readFile(join(here, file), 'utf8')).map((d) => d.toJS() as Manifest);
}

const argAfter = (command: string[], flag: string) => command[command.indexOf(flag) + 1];

describe('examples/distributed', () => {
  it('Kubernetes: an Indexed Job of N shards and a gather Job over one ReadWriteMany claim', async () => {
    const [claim, job] = await manifests('kubernetes/merge-job.yaml');
    const [gather] = await manifests('kubernetes/gather-job.yaml');
    expect(claim.kind).toBe('PersistentVolumeClaim');
    expect(claim.spec.accessModes).toEqual(['ReadWriteMany']);
    expect(job.spec.completionMode).toBe('Indexed');
    const command: string[] = job.spec.template.spec.containers[0].command;
    expect(command.slice(0, 2)).toEqual(['mats', 'merge']);
    expect(argAfter(command, '--shard')).toBe('auto');
    expect(Number(argAfter(command, '--shards'))).toBe(job.spec.completions);
    expect(job.spec.parallelism).toBe(job.spec.completions);
    const gatherCommand: string[] = gather.spec.template.spec.containers[0].command;
    expect(gatherCommand).toEqual(['mats', 'gather', argAfter(command, '--out')]);
    for (const j of [job, gather]) {
      expect(j.spec.template.spec.volumes[0].persistentVolumeClaim.claimName).toBe(claim.metadata.name);
      const mount = j.spec.template.spec.containers[0].volumeMounts[0];
      expect(mount.name).toBe(j.spec.template.spec.volumes[0].name);
      expect(argAfter(command, '--out').startsWith(`${mount.mountPath}/`)).toBe(true);
    }
  });

  it('the shell scripts parse', () => {
    for (const script of ['slurm/submit.sh', 'slurm/merge.sbatch', 'slurm/gather.sbatch', 'slurm-local-test.sh', 'kubernetes/run.sh']) {
      expect(() => execFileSync('bash', ['-n', join(here, script)]), script).not.toThrow();
    }
  });

  it('the Slurm array task takes its shard from the array and N from --shards', async () => {
    const text = await readFile(join(here, 'slurm/merge.sbatch'), 'utf8');
    expect(text).toMatch(/merge "\$MATS_CONFIG" --shard auto --shards "\$MATS_SHARDS"/);
    const submit = await readFile(join(here, 'slurm/submit.sh'), 'utf8');
    expect(submit).toMatch(/--array=0-\$\(\(shards - 1\)\)/);
    expect(submit).toMatch(/--dependency=afterok:"\$array"/);
  });

  it('CI installs Slurm and munge and runs the local Slurm test, failing when it fails', async () => {
    const ci = await readFile(join(here, '../../.ci/run'), 'utf8');
    const packages = /^apt_packages=\(([^)]*)\)/m.exec(ci)?.[1].split(/\s+/) ?? [];
    for (const p of ['slurm-wlm', 'munge']) expect(packages, p).toContain(p);
    expect(ci).toMatch(/^set -euo pipefail$/m);
    // A step of its own, not under `|| true`: a failed Slurm run fails CI.
    const call = ci.split('\n').find((line) => line.includes('examples/distributed/slurm-local-test.sh ') && !line.trimStart().startsWith('#'));
    expect(call).toBeDefined();
    expect(call).not.toMatch(/\|\||; *true|set \+e/);
    expect(ci).toMatch(/^step "Slurm: [^"]*" slurm_run$/m);
    // The script refuses rather than skips when a tool is missing.
    const script = await readFile(join(here, 'slurm-local-test.sh'), 'utf8');
    expect(script).toMatch(/command -v "\$tool" >\/dev\/null \|\| \{ echo [^}]*; exit 1; \}/);
  });
});
