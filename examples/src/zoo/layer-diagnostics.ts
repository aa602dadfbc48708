import type { LayerDiagnostics } from '../report/results.js';
import type { MergeLogLine } from './merge-runner.js';

interface FactorSummary {
  readonly trace: number;
  readonly effectiveRank: number;
}

/** What the subspace methods put in a --json-log line's diagnostics (merge/src/methods/subspace-diagnostics.ts). */
interface LoggedDiagnostics {
  readonly tasks?: readonly { readonly model: number; readonly grad?: FactorSummary; readonly input?: FactorSummary }[];
  readonly summedGrad?: { readonly condition: number };
  readonly summedInput?: { readonly condition: number };
  readonly residualHistory?: readonly number[];
}

/** Per weight matrix of a merge's --json-log: traces and ranks per task, conditioning, CG residuals. */
export function layerDiagnostics(log: readonly MergeLogLine[]): LayerDiagnostics[] {
  const out: LayerDiagnostics[] = [];
  for (const line of log) {
    const d = line.diagnostics as LoggedDiagnostics | undefined;
    const details = line.details as { subspace?: string } | undefined;
    if (d?.tasks === undefined || typeof line.name !== 'string') continue;
    const history = d.residualHistory ?? [];
    out.push({
      parameter: line.name,
      subspace: details?.subspace ?? '',
      tasks: d.tasks.map((t) => ({ model: t.model, gradTrace: t.grad?.trace, gradRank: t.grad?.effectiveRank, inputTrace: t.input?.trace, inputRank: t.input?.effectiveRank })),
      gradCondition: d.summedGrad?.condition,
      inputCondition: d.summedInput?.condition,
      relativeResiduals: history.length > 0 && history[0] > 0 ? history.map((r) => r / history[0]) : [],
      status: line.status,
    });
  }
  return out;
}
