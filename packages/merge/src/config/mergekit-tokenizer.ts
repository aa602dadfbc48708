/**
 * mergekit's tokenizer_source does more than copy files: it rebuilds every model's embedding
 * and head rows for the source tokenizer's vocabulary (mergekit/tokenizer/embed.py,
 * PermutedEmbeddings: row of token t in model m = m's row of t, the matrix cut to the
 * vocabulary's size). That is the identity when every input has the source's vocabulary (the
 * same token -> id map) and each embedding has one row per token, the usual case of models
 * fine-tuned from one base. mats copies the tokenizer files and merges rows as they are, so it
 * runs a mergekit config with tokenizer_source only where it can check that this holds.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Tensor names mergekit's architectures mark as embeddings (is_embed): input embeddings and the head. */
const EMBEDDING_SUFFIXES = ['embed_tokens.weight', 'wte.weight', 'word_embeddings.weight', 'embed_in.weight', 'embed_out.weight', 'lm_head.weight', 'shared.weight'];

export const isEmbedding = (name: string): boolean => EMBEDDING_SUFFIXES.some((s) => name === s || name.endsWith(`.${s}`));

/** token -> id of a tokenizer.json (its model's vocabulary and added tokens), or a reason it cannot be read. */
async function vocabularyOf(folder: string): Promise<Map<string, number> | string> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(join(folder, 'tokenizer.json'), 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'has no tokenizer.json' : `tokenizer.json cannot be read (${code ?? (e as Error).message})`;
  }
  const vocab = new Map<string, number>();
  const model = (json as { model?: { vocab?: unknown } }).model?.vocab;
  // BPE and WordPiece: {token: id}; Unigram: [[token, score], ...] with the index as id.
  if (Array.isArray(model)) model.forEach((entry, id) => Array.isArray(entry) && typeof entry[0] === 'string' && vocab.set(entry[0], id));
  else if (typeof model === 'object' && model !== null) for (const [token, id] of Object.entries(model)) if (typeof id === 'number') vocab.set(token, id);
  for (const added of (json as { added_tokens?: { id?: unknown; content?: unknown }[] }).added_tokens ?? []) {
    if (typeof added.content === 'string' && typeof added.id === 'number') vocab.set(added.content, added.id);
  }
  return vocab.size > 0 ? vocab : 'tokenizer.json has no vocabulary';
}

function sameVocabulary(a: Map<string, number>, b: Map<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [token, id] of a) if (b.get(token) !== id) return false;
  return true;
}

/**
 * Problems where mergekit's tokenizer_source would change the merge: an input whose vocabulary
 * differs from the source's (or cannot be read), an embedding whose row count is not the
 * vocabulary's size.
 */
export async function tokenizerSourceProblems(source: string, inputs: readonly { role: string; folder: string }[], embeddings: readonly { name: string; rows: number }[]): Promise<string[]> {
  const why = 'mergekit rebuilds embedding rows for tokenizer_source\'s vocabulary, mats merges them as they are; drop tokenizer_source to keep the rows (the base\'s tokenizer files are copied anyway)';
  const reference = await vocabularyOf(source);
  if (typeof reference === 'string') return [`tokenizer_source: ${source} ${reference}, so mats cannot check that every model has its vocabulary (${why})`];
  const problems: string[] = [];
  for (const { role, folder } of inputs) {
    const vocab = await vocabularyOf(folder);
    if (typeof vocab === 'string') problems.push(`tokenizer_source: ${role} (${folder}) ${vocab}, so mats cannot check that it has the source's vocabulary (${why})`);
    else if (!sameVocabulary(vocab, reference)) problems.push(`tokenizer_source: ${role} (${folder}) has a vocabulary other than ${source}'s (${why})`);
  }
  for (const { name, rows } of embeddings) {
    if (rows !== reference.size) problems.push(`tokenizer_source: ${name} has ${rows} rows, the vocabulary ${reference.size} tokens (${why})`);
  }
  return problems;
}
