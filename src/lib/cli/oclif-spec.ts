// The oclif side of spec.ts: the Flags and Args a command class declares, built from its plain-data spec so that
// oclif's parser, help and manifest and the start-up fast path read one definition.
import { Args, Flags, type Interfaces } from '@oclif/core';
import type { ArgSpec, FlagSpec } from './spec.js';

// The parsed values are typed by the spec (SpecValues), not by oclif's inference; oclif's Flag is invariant in its
// value type, so the union of the three kinds is only expressible as Flag<any>.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type OclifFlag = Interfaces.Flag<any>;

function common(spec: FlagSpec) {
  return {
    ...(spec.char ? { char: spec.char as Interfaces.AlphabetLowercase } : {}),
    ...(spec.summary ? { summary: spec.summary } : {}),
    description: spec.description,
    ...(spec.helpGroup ? { helpGroup: spec.helpGroup } : {}),
  };
}

export function oclifFlag(spec: FlagSpec): OclifFlag {
  switch (spec.type) {
    case 'boolean':
      return Flags.boolean({
        ...common(spec),
        ...(spec.default !== undefined ? { default: spec.default } : {}),
        ...(spec.allowNo ? { allowNo: true } : {}),
      });
    case 'integer':
      return Flags.integer({
        ...common(spec),
        ...(spec.default !== undefined ? { default: spec.default } : {}),
        ...(spec.min !== undefined ? { min: spec.min } : {}),
        ...(spec.max !== undefined ? { max: spec.max } : {}),
      });
    case 'string':
      return spec.multiple
        ? Flags.string({
            ...common(spec),
            ...(spec.options ? { options: [...spec.options] } : {}),
            multiple: true,
            // One value per occurrence: `stamp -x 'gen/**' a.py b.py` keeps a.py and b.py as files.
            multipleNonGreedy: true,
          })
        : Flags.string({
            ...common(spec),
            ...(spec.default !== undefined ? { default: spec.default } : {}),
            ...(spec.options ? { options: [...spec.options] } : {}),
          });
  }
}

/** oclif Flags for every flag of the spec, under the same names. */
export function oclifFlags<T extends Record<string, FlagSpec>>(flags: T): { [K in keyof T]: OclifFlag } {
  return Object.fromEntries(Object.entries(flags).map(([name, spec]) => [name, oclifFlag(spec)])) as {
    [K in keyof T]: OclifFlag;
  };
}

export function oclifArgs(args: Record<string, ArgSpec>): Record<string, ReturnType<typeof Args.string>> {
  return Object.fromEntries(
    Object.entries(args).map(([name, spec]) => [
      name,
      Args.string({
        description: spec.description,
        ...(spec.required !== undefined ? { required: spec.required } : {}),
      }),
    ]),
  );
}
