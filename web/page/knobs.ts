/**
 * A method's knobs as form fields, made from the JSON Schema of the method's own parameter
 * schema (the one the config loader validates with): a select for a choice or a yes/no, a
 * number field for a number, a text field for a string, JSON for anything else. An empty field
 * is a knob left at its default, and stays out of the config.
 */
import type { KnobSchema, KnobsSchema } from '../shared/protocol.js';

const describeDefault = (v: unknown) => (v === undefined ? 'the method decides' : JSON.stringify(v));

function bounds(k: KnobSchema): string {
  const parts: string[] = [];
  if (k.minimum !== undefined) parts.push(`>= ${k.minimum}`);
  if (k.exclusiveMinimum !== undefined) parts.push(`> ${k.exclusiveMinimum}`);
  if (k.maximum !== undefined && k.maximum < Number.MAX_SAFE_INTEGER) parts.push(`<= ${k.maximum}`);
  if (k.exclusiveMaximum !== undefined) parts.push(`< ${k.exclusiveMaximum}`);
  return parts.join(', ');
}

function field(name: string, k: KnobSchema): HTMLElement {
  let control: HTMLInputElement | HTMLSelectElement;
  const choices = k.enum ?? (k.type === 'boolean' ? ['true', 'false'] : undefined);
  if (choices !== undefined) {
    const select = document.createElement('select');
    select.add(new Option(`default (${describeDefault(k.default)})`, ''));
    for (const c of choices) select.add(new Option(c, c));
    control = select;
  } else {
    const input = document.createElement('input');
    // Text, not type=number: a browser turns what is not a number into '' (the default), silently.
    input.type = 'text';
    if (k.type === 'number' || k.type === 'integer') input.inputMode = 'decimal';
    input.placeholder = k.type === 'object' || k.type === undefined ? `JSON, default ${describeDefault(k.default)}` : `default ${describeDefault(k.default)}`;
    control = input;
  }
  control.name = name;
  control.dataset.kind = k.type ?? 'json';
  const label = document.createElement('label');
  label.className = 'knob';
  const title = document.createElement('span');
  title.textContent = name;
  label.append(title, control);
  const hint = [k.description, bounds(k)].filter((s) => s !== undefined && s !== '').join('; ');
  if (hint !== '') label.title = hint;
  return label;
}

/** Replaces container's fields with those of a method's schema. */
export function renderKnobs(container: HTMLElement, schema: KnobsSchema): void {
  container.replaceChildren(...Object.entries(schema.properties ?? {}).map(([name, k]) => field(name, k)));
  if (container.childElementCount === 0) container.textContent = 'This method has no knobs.';
}

/**
 * The knobs set in container, typed as the schema says; a field that cannot be read (text in a
 * number field, bad JSON) is a problem named by its knob. Ranges are the engine's to check: it
 * gives the CLI's message.
 */
export function readKnobs(container: HTMLElement): { values: Record<string, unknown>; problems: string[] } {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const control of container.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select')) {
    const text = control.value.trim();
    if (text === '') continue;
    const kind = control.dataset.kind;
    if (kind === 'number' || kind === 'integer') {
      const n = Number(text);
      if (Number.isFinite(n)) values[control.name] = n;
      else problems.push(`parameters.${control.name}: ${JSON.stringify(text)} is not a number`);
    } else if (kind === 'boolean') values[control.name] = text === 'true';
    else if (kind === 'string') values[control.name] = text;
    else {
      try {
        values[control.name] = JSON.parse(text);
      } catch {
        problems.push(`parameters.${control.name}: ${JSON.stringify(text)} is not JSON`);
      }
    }
  }
  return { values, problems };
}
