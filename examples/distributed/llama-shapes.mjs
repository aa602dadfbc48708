// What the example generators share: the tensor names and shapes of a Llama model, and their
// command line (a folder, then numeric --options).

/**
 * [name, shape] of every weight of a Llama model: the embedding, per layer the attention
 * (k_proj and v_proj [kv, hidden]: grouped-query attention when kv < hidden), the MLP and two
 * norms, the final norm and an untied head.
 */
export function llamaShapes({ layers, hidden, mlp, vocab, kv = hidden }) {
  const shapes = [
    ['model.embed_tokens.weight', [vocab, hidden]],
    ['lm_head.weight', [vocab, hidden]],
    ['model.norm.weight', [hidden]],
  ];
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}`;
    shapes.push([`${p}.self_attn.q_proj.weight`, [hidden, hidden]], [`${p}.self_attn.k_proj.weight`, [kv, hidden]], [`${p}.self_attn.v_proj.weight`, [kv, hidden]], [`${p}.self_attn.o_proj.weight`, [hidden, hidden]]);
    shapes.push([`${p}.mlp.gate_proj.weight`, [mlp, hidden]], [`${p}.mlp.up_proj.weight`, [mlp, hidden]], [`${p}.mlp.down_proj.weight`, [hidden, mlp]]);
    shapes.push([`${p}.input_layernorm.weight`, [hidden]], [`${p}.post_attention_layernorm.weight`, [hidden]]);
  }
  return shapes;
}

/** DIR and the numeric options (defaults: their values in `defaults`); exits with usage without DIR. */
export function folderAndOptions(script, defaults) {
  const args = process.argv.slice(2);
  const dir = args.find((a) => !a.startsWith('--'));
  if (dir === undefined) {
    console.error(`usage: ${script} DIR ${Object.entries(defaults).map(([k, v]) => `[--${k} ${v}]`).join(' ')}`);
    process.exit(2);
  }
  const options = Object.fromEntries(
    Object.entries(defaults).map(([name, fallback]) => {
      const i = args.indexOf(`--${name}`);
      return [name, i >= 0 ? Number(args[i + 1]) : fallback];
    }),
  );
  return { dir, ...options };
}
