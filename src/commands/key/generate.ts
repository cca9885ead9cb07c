import { Flags } from '@oclif/core';
import { BaseCommand, readPassword } from '../../lib/cli/index.js';
import {
  COSIGN_KEY_LABEL,
  SIGSTORE_KEY_LABEL,
  assertAbsent,
  generateSigningKey,
  type KeyFilesResult,
  writeKeyPair,
} from '../../lib/sign/index.js';

export default class KeyGenerate extends BaseCommand {
  static override summary = 'Generate a cosign-compatible ECDSA P-256 key pair (P.key encrypted, P.pub).';
  static override description =
    'Writes PREFIX.key in cosign\'s encrypted format (PEM "ENCRYPTED SIGSTORE PRIVATE KEY": scrypt N=32768 r=8 p=1 + NaCl secretbox over the PKCS#8 key), mode 0600, and PREFIX.pub (SPKI PEM). The password comes from COSIGN_PASSWORD or AIONCTL_PASSWORD (an empty value means no password), else it is asked on the terminal; without a terminal the command fails rather than wait. The files work with `cosign sign --key` / `cosign verify --key` and with containers/image.';
  static override examples = [
    'COSIGN_PASSWORD=... <%= config.bin %> key generate',
    '<%= config.bin %> key generate --output-prefix release',
    '<%= config.bin %> key generate --legacy-label   # "ENCRYPTED COSIGN PRIVATE KEY" for containers/image < 5.25',
  ];
  static override flags = {
    'output-prefix': Flags.string({ description: 'Write PREFIX.key and PREFIX.pub.', default: 'cosign' }),
    force: Flags.boolean({ description: 'Overwrite existing key files.' }),
    'legacy-label': Flags.boolean({
      description: 'Use the older "ENCRYPTED COSIGN PRIVATE KEY" PEM label (readable by old containers/image).',
    }),
  };

  async run(): Promise<KeyFilesResult> {
    const { flags } = await this.parse(KeyGenerate);
    const prefix = flags['output-prefix'];
    // Checked before the password prompt too, so nobody types a password for a write that will be refused.
    await assertAbsent([`${prefix}.key`, `${prefix}.pub`], flags.force);
    const password = await readPassword(process.env, { confirm: true });
    const result = await writeKeyPair(prefix, generateSigningKey(), password, {
      force: flags.force,
      label: flags['legacy-label'] ? COSIGN_KEY_LABEL : SIGSTORE_KEY_LABEL,
    });
    this.log(`Private key written to ${result.privateKey}`);
    this.log(`Public key written to ${result.publicKey}`);
    this.log(`Fingerprint (sha256 of SPKI): ${result.fingerprint}`);
    return result;
  }
}
