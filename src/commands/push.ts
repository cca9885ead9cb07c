import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../lib/cli/index.js';
import { AionError } from '../lib/errors/index.js';
import {
  type ArtifactReference,
  copyArtifact,
  formatReference,
  openStore,
  openTarget,
  pack,
  parseReference,
  type ReadTarget,
  requireSelector,
} from '../lib/oci/index.js';
import { createProgress } from '../lib/oci/progress.js';
import { closeTarget, connectOptions, registryFlags } from '../lib/oci/registry/cli.js';
import { DEFAULT_CHUNK_SIZE, DEFAULT_MONOLITHIC_MAX } from '../lib/oci/registry/defaults.js';

export interface PushResultJson {
  ref: string;
  digest: string;
  size: number;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

export default class Push extends BaseCommand {
  static override summary = 'Push a package (directory or stored artifact) to a registry or an OCI layout.';
  static override description = [
    'SOURCE is a package directory (validated and packed into the local store first) or a reference the local store, an oci: layout or a registry already holds. TARGET is HOST[:PORT]/REPOSITORY[:TAG] or oci:PATH[:TAG]; without a tag the source tag is used.',
    'Blobs the registry already has are skipped; blobs in another repository of the same registry are mounted instead of uploaded. Small blobs go up in one PUT, larger ones in PATCH chunks of --chunk-size. Credentials come from the Docker config (aionctl login, docker login, credential helpers). localhost and 127.0.0.1 use plain HTTP; other hosts HTTPS.',
    'Prints the pushed manifest digest.',
  ].join('\n\n');
  static override examples = [
    '<%= config.bin %> push ./my-agent localhost:5000/agents/my-agent:1.0.0',
    '<%= config.bin %> push my_agent:1.0.0 ghcr.io/acme/my-agent:1.0.0 --json',
    '<%= config.bin %> push ./my-agent oci:./export',
  ];
  static override args = {
    source: Args.string({
      description: 'Package directory, or a reference (NAME:TAG, oci:PATH:TAG, HOST/REPO:TAG).',
      required: true,
    }),
    target: Args.string({
      description: 'Destination: HOST[:PORT]/REPOSITORY[:TAG] or oci:PATH[:TAG].',
      required: true,
    }),
  };
  static override flags = {
    ...registryFlags,
    'chunk-size': Flags.integer({
      description: `Size in bytes of the PATCH chunks large blobs are streamed in (default ${DEFAULT_CHUNK_SIZE}); blobs up to ${DEFAULT_MONOLITHIC_MAX} bytes (or this size if smaller) go up in one PUT.`,
      min: 1024,
    }),
    concurrency: Flags.integer({ description: 'Parallel blob uploads.', default: 4, min: 1, max: 32 }),
    referrers: Flags.boolean({
      description: 'Also push referrers (signatures, SBOMs) of the artifact.',
      default: true,
      allowNo: true,
    }),
  };

  async run(): Promise<PushResultJson> {
    const { args, flags } = await this.parse(Push);
    const targetRef = parseReference(args.target, { plainHttp: flags['plain-http'] });
    if (targetRef.kind === 'store') {
      throw new AionError('CI001', `TARGET ${args.target} is a local store name`, {
        hint: 'push to a registry (HOST/REPOSITORY:TAG) or a layout (oci:PATH:TAG); pack writes to the store',
      });
    }
    const warn = (m: string) => this.warnLine(m);
    let source: ReadTarget;
    let sourceRef: ArtifactReference;
    let selector: string;
    if (await isDirectory(args.source)) {
      const packed = await pack(resolve(args.source), (info) => openStore(info.name));
      sourceRef = { kind: 'store', repository: packed.artifact.info.name, tag: packed.tag };
      source = openStore(packed.artifact.info.name);
      selector = packed.descriptor.digest;
      this.diag(`packed ${args.source} as ${formatReference(sourceRef)}`);
    } else {
      if (/^(\.{1,2}(\/|$)|\/|~)/.test(args.source)) {
        throw new AionError('FS001', `${args.source} is not a package directory`, {
          hint: 'give an existing package directory, or a reference such as NAME:TAG or oci:PATH:TAG',
        });
      }
      sourceRef = parseReference(args.source, { plainHttp: flags['plain-http'] });
      selector = requireSelector(sourceRef, 'push');
      source = await openTarget(sourceRef, { registry: connectOptions(flags, warn) });
    }
    const tag = targetRef.tag ?? sourceRef.tag;
    if (!tag && !targetRef.digest) requireSelector(targetRef, 'push (there is no source tag to reuse)');
    const mountFrom =
      sourceRef.kind === 'registry' && targetRef.kind === 'registry' && sourceRef.registry === targetRef.registry
        ? [sourceRef.repository]
        : undefined;
    const destination = await openTarget(targetRef, {
      registry: {
        ...connectOptions(flags, () => undefined),
        access: 'push',
        ...(flags['chunk-size']
          ? { chunkSize: flags['chunk-size'], chunkThreshold: Math.min(flags['chunk-size'], DEFAULT_MONOLITHIC_MAX) }
          : {}),
        ...(mountFrom ? { mountFrom } : {}),
      },
    });
    const descriptor = await source.resolve(selector);
    if (targetRef.digest && targetRef.digest !== descriptor.digest) {
      throw new AionError('CI001', `${args.target} pins ${targetRef.digest} but the source is ${descriptor.digest}`, {
        hint: 'drop the @digest from TARGET',
      });
    }
    const progress = createProgress({ silent: flags.quiet || this.jsonEnabled(), verb: 'pushed' });
    try {
      await copyArtifact(source, descriptor, destination, tag, {
        referrers: flags.referrers,
        concurrency: flags.concurrency,
        onProgress: (e) => (e.kind === 'warning' ? this.warnLine(e.message) : progress.onProgress(e)),
      });
    } finally {
      await progress.finish();
      await closeTarget(source);
      await closeTarget(destination);
    }
    const ref = formatReference({ ...targetRef, ...(tag ? { tag } : {}), digest: descriptor.digest });
    this.diag(`pushed ${ref}`);
    this.log(descriptor.digest);
    return { ref, digest: descriptor.digest, size: descriptor.size };
  }
}
