import { readFile } from 'node:fs/promises';
import { Args, Flags } from '@oclif/core';
import { BaseCommand, readPassword } from '../../lib/cli/index.js';
import { fsError } from '../../lib/errors/index.js';
import {
  assertAbsent,
  isEncryptedKeyPem,
  type KeyFilesResult,
  loadPrivateKey,
  writeKeyPair,
} from '../../lib/sign/index.js';

export default class KeyImport extends BaseCommand {
  static override summary = 'Import a private key (cosign.key or plain PEM) as an encrypted aionctl/cosign key pair.';
  static override description =
    'Reads cosign\'s encrypted key (both PEM labels, "ENCRYPTED SIGSTORE PRIVATE KEY" and the older "ENCRYPTED COSIGN PRIVATE KEY", any scrypt N cosign accepts) or an unencrypted PKCS#8 "PRIVATE KEY" / SEC1 "EC PRIVATE KEY" / PKCS#1 "RSA PRIVATE KEY" PEM, like `cosign import-key-pair`, and writes PREFIX.key (encrypted, 0600) and PREFIX.pub. The password (COSIGN_PASSWORD / AIONCTL_PASSWORD / prompt) decrypts an encrypted input and encrypts the output.';
  static override examples = [
    'COSIGN_PASSWORD=... <%= config.bin %> key import cosign.key --output-prefix imported',
    '<%= config.bin %> key import ec-private.pem',
  ];
  static override args = { file: Args.string({ description: 'Private key PEM file to import.', required: true }) };
  static override flags = {
    'output-prefix': Flags.string({ description: 'Write PREFIX.key and PREFIX.pub.', default: 'import-cosign' }),
    force: Flags.boolean({ description: 'Overwrite existing key files.' }),
  };

  async run(): Promise<KeyFilesResult> {
    const { args, flags } = await this.parse(KeyImport);
    let text: string;
    try {
      text = await readFile(args.file, 'utf8');
    } catch (err) {
      throw fsError(err, args.file);
    }
    const prefix = flags['output-prefix'];
    await assertAbsent([`${prefix}.key`, `${prefix}.pub`], flags.force);
    const password = await readPassword(process.env, { confirm: !isEncryptedKeyPem(text) });
    const key = loadPrivateKey(text, password, args.file, { allowUnencrypted: true });
    const result = await writeKeyPair(prefix, key, password, { force: flags.force });
    this.log(`Private key written to ${result.privateKey}`);
    this.log(`Public key written to ${result.publicKey}`);
    this.log(`Fingerprint (sha256 of SPKI): ${result.fingerprint}`);
    return result;
  }
}
