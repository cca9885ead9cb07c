import { Args, Flags } from '@oclif/core';
import { BaseCommand, connectOptions, readPassword, registryFlags } from '../lib/cli/index.js';
import {
  type SignResult,
  keySource,
  openArtifact,
  openSignatureRepository,
  parseAnnotations,
  signArtifact,
} from '../lib/sign/index.js';

export default class Sign extends BaseCommand {
  static override summary = 'Sign an artifact with a cosign-compatible signature.';
  static override description =
    'Resolves REF to its digest (a tag is never signed), then writes the classic cosign attachment: the tag sha256-<hex>.sig in the same repository (or in $COSIGN_REPOSITORY), an OCI manifest with one simple-signing layer per signature. Signing again appends a signature and skips an identical one, as cosign does. --bundle also writes a Sigstore bundle v0.3 (key-signed DSSE over an in-toto statement) as an OCI referrer of the artifact; --format bundle writes only that. REF may be a registry reference, a local store NAME:TAG or an oci:PATH:TAG layout. What aionctl signs verifies with `cosign verify --key cosign.pub --insecure-ignore-tlog` (no transparency log is used).';
  static override examples = [
    'COSIGN_PASSWORD=... <%= config.bin %> sign registry.example/team/agent:1.0.0 --key cosign.key',
    '<%= config.bin %> sign acme/agent:1.0.0 --key env://COSIGN_PRIVATE_KEY -a ci=github',
    '<%= config.bin %> sign oci:./build/layout:1.0.0 --key cosign.key --bundle',
  ];
  static override args = { ref: Args.string({ description: 'Artifact to sign (tag or digest).', required: true }) };
  static override flags = {
    ...registryFlags,
    key: Flags.string({
      description: 'Private key: a cosign.key file or env://VAR (KMS URIs are not supported yet).',
      required: true,
    }),
    annotations: Flags.string({
      char: 'a',
      description: 'key=value to put into the payload\'s "optional" section (repeatable).',
      multiple: true,
      multipleNonGreedy: true,
    }),
    identity: Flags.string({
      description: 'docker-reference to sign for (default: the repository of REF, without tag).',
    }),
    bundle: Flags.boolean({ description: 'Also write a Sigstore bundle v0.3 as an OCI referrer.' }),
    format: Flags.string({
      description: 'classic: the .sig tag (default); bundle: only a bundle referrer; both.',
      options: ['classic', 'bundle', 'both'],
      default: 'classic',
    }),
  };

  async run(): Promise<SignResult> {
    const { args, flags } = await this.parse(Sign);
    const signer = await keySource(flags.key).signer(() => readPassword());
    const open = { plainHttp: flags['plain-http'], registry: connectOptions(flags, (m) => this.warnLine(m)) };
    const opened = await openArtifact(args.ref, open);
    const signatureTarget = await openSignatureRepository(open);
    const format = flags.bundle && flags.format === 'classic' ? 'both' : flags.format;
    const result = await signArtifact(opened.target, opened.selector, {
      signer,
      identity: flags.identity ?? opened.identity,
      annotations: parseAnnotations(flags.annotations),
      classic: format !== 'bundle',
      bundle: format !== 'classic',
      signatureTarget,
    }).finally(async () => {
      await opened.target.close();
      if (signatureTarget) await signatureTarget.close();
    });
    const where = `${opened.target.name}@${result.digest}`;
    if (result.signatureTag)
      this.log(
        result.added || format === 'bundle'
          ? `Signed ${where} (${result.signatures} signature(s) in ${result.signatureTag})`
          : `${where} already carries this signature (${result.signatureTag}); nothing added`,
      );
    if (result.bundleManifest) this.log(`Bundle referrer ${result.bundleManifest} attached to ${where}`);
    return result;
  }
}
