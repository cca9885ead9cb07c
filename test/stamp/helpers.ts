import { type Plan, planStamp, type StampContext } from '../../src/lib/stamp/index.js';

export const NOW = '2024-01-02T03:04:05.678Z';

/** A fixed context: clock at NOW, uuids counted up so tests can predict them. */
export function fixedContext(overrides: Partial<StampContext> = {}): StampContext {
  let n = 0;
  return {
    now: NOW,
    newUuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    defaults: {},
    overrides: {},
    ...overrides,
  };
}

export type OkPlan = Extract<Plan, { kind: 'ok' }>;

/** Plans one file from text; returns the plan and the output text (input when nothing changes). */
export function plan(text: string | Uint8Array, name: string, ctx: StampContext = fixedContext()) {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const p = planStamp(bytes, name, name, ctx);
  const out =
    p.kind === 'ok' && p.output ? Buffer.from(p.output).toString('utf8') : Buffer.from(bytes).toString('utf8');
  return { plan: p, out };
}

export function stamped(text: string, name: string, ctx?: StampContext): string {
  const { plan: p, out } = plan(text, name, ctx);
  if (p.kind !== 'ok') throw new Error(`expected a stamp plan for ${name}, got skip ${p.reason}`);
  return out;
}

/** The block's `key: value` lines as a map (strips any comment prefix and JSON quotes). */
export function blockFields(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r\n|\r|\n/)) {
    const m = /^(?:#|\/\/|--)? ?([a-z_]+): (.*)$/.exec(line);
    if (!m) continue;
    const raw = m[2]!;
    fields[m[1]!] = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
  }
  return fields;
}
