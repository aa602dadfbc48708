/**
 * Per-tensor settings of the task-subspace methods: a list of rules, each a glob `pattern` over
 * tensor names with the subspace and factor knobs it sets (K-FAC on some layers, Gram on
 * others, identity, i.e. the average, for norms), the reference code's per-parameter choice
 * for its head and layer norms. The first rule whose pattern matches a tensor's whole name
 * applies; knobs it does not set keep the method's own. `*` matches any run of characters
 * (dots included), `?` one character.
 */
import { z } from 'zod';
import { factorKnobSchemas, type FactorKnobs } from './factor-controls.js';
import { SUBSPACES, type SubspaceChoice } from './subspace.js';

export const subspaceChoiceSchema = z.enum([...SUBSPACES, 'auto']);

export const tensorRuleSchema = z.strictObject({
  /** Glob over tensor names: `layers.0.*`, `*.norm.weight`, `lm_head.weight`. */
  pattern: z.string().min(1),
  subspace: subspaceChoiceSchema.optional(),
  shrink: factorKnobSchemas.shrink.optional(),
  damping: factorKnobSchemas.damping.optional(),
  grad_damping: factorKnobSchemas.grad_damping.optional(),
  input_damping: factorKnobSchemas.input_damping.optional(),
  normalize_grad: factorKnobSchemas.normalize_grad.optional(),
});

export type TensorRule = z.output<typeof tensorRuleSchema>;

/** The subspace and the factor knobs that apply to one tensor. */
export interface SubspaceSettings extends FactorKnobs {
  readonly subspace: SubspaceChoice;
}

/** A glob as an anchored regular expression. */
export function globPattern(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** Settings per tensor name: the first matching rule over the defaults. */
export class TensorSettings {
  private readonly compiled: readonly { readonly rule: TensorRule; readonly pattern: RegExp }[];

  constructor(
    readonly defaults: SubspaceSettings,
    rules: readonly TensorRule[],
  ) {
    this.compiled = rules.map((rule) => ({ rule, pattern: globPattern(rule.pattern) }));
  }

  /** The settings of tensor `name`, and the index of the rule that set them (none: the defaults). */
  of(name: string): { readonly settings: SubspaceSettings; readonly rule?: number } {
    const k = this.compiled.findIndex((c) => c.pattern.test(name));
    if (k < 0) return { settings: this.defaults };
    const { pattern: _pattern, ...knobs } = this.compiled[k].rule;
    const set = Object.fromEntries(Object.entries(knobs).filter(([, v]) => v !== undefined));
    return { settings: { ...this.defaults, ...set }, rule: k };
  }
}
