/**
 * Where a tensor sits in the model, for values given as gradients over the layers: mergekit
 * interpolates a gradient at t = i / (L - 1) for the tensors of layer i of L (t = 1 when
 * L = 1), and at t = 0 for every tensor outside the layers (embeddings, final norm, head:
 * mergekit/plan.py reads its pre- and post-layer weights at t = 0).
 *
 * mergekit knows each architecture's layer names from its JSON definitions; here a tensor is in
 * layer i when its name has a segment `layers`, `layer`, `h`, `blocks` or `block` followed by
 * the integer i (model.layers.3.mlp..., transformer.h.3..., encoder.block.3...), which is how
 * the transformers architectures mergekit defines name them. Each such stack (the name up to
 * the index: model.layers, encoder.block, ...) counts its own layers, which must be numbered
 * 0..L-1.
 */

const STACK_NAMES = new Set(['layers', 'layer', 'h', 'blocks', 'block']);

export interface LayerPositions {
  /** t in [0, 1] of each tensor name given. */
  readonly positions: ReadonlyMap<string, number>;
  /** Stacks whose layers are not numbered 0..L-1 (gradients cannot be placed on them). */
  readonly problems: readonly string[];
}

/** The stack and layer index of a tensor name, or undefined outside the layers. */
export function layerOf(name: string): { stack: string; index: number } | undefined {
  const parts = name.split('.');
  for (let k = 1; k < parts.length; k++) {
    if (/^\d+$/.test(parts[k]) && STACK_NAMES.has(parts[k - 1])) return { stack: parts.slice(0, k).join('.'), index: Number(parts[k]) };
  }
  return undefined;
}

export function layerPositions(names: readonly string[]): LayerPositions {
  const stacks = new Map<string, Set<number>>();
  for (const name of names) {
    const layer = layerOf(name);
    if (layer === undefined) continue;
    let indices = stacks.get(layer.stack);
    if (indices === undefined) stacks.set(layer.stack, (indices = new Set()));
    indices.add(layer.index);
  }
  const problems: string[] = [];
  for (const [stack, indices] of stacks) {
    const count = indices.size;
    const sorted = [...indices].sort((a, b) => a - b);
    if (sorted[0] !== 0 || sorted[count - 1] !== count - 1) problems.push(`the layers of ${stack} are not numbered 0..${count - 1} (found ${sorted.slice(0, 8).join(', ')}${count > 8 ? ', ...' : ''}), so a gradient cannot be placed on them`);
  }
  const positions = new Map<string, number>();
  for (const name of names) {
    const layer = layerOf(name);
    const count = layer === undefined ? 0 : stacks.get(layer.stack)!.size;
    positions.set(name, layer === undefined ? 0 : count > 1 ? layer.index / (count - 1) : 1);
  }
  return { positions, problems };
}
