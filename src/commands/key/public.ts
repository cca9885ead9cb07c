import { Flags } from '@oclif/core';
import { BaseCommand, readPassword } from '../../lib/cli/index.js';
import { keyFingerprint, keySource, publicKeyPem } from '../../lib/sign/index.js';

export interface PublicKeyResult {
  publicKey: string;
  fingerprint: string;
}

export default class KeyPublic extends BaseCommand {
  static override summary = 'Print the public key (SPKI PEM) of a private key.';
  static override description =
    'Like `cosign public-key`: decrypts the private key given with --key (a file or env://VAR; password from COSIGN_PASSWORD / AIONCTL_PASSWORD / prompt) and prints its public key. The private key is never printed.';
  static override examples = [
    '<%= config.bin %> key public --key cosign.key > cosign.pub',
    '<%= config.bin %> key public --key env://COSIGN_PRIVATE_KEY --json',
  ];
  static override flags = {
    key: Flags.string({ description: 'Private key: a file path or env://VAR.', required: true }),
  };

  async run(): Promise<PublicKeyResult> {
    const { flags } = await this.parse(KeyPublic);
    const signer = await keySource(flags.key).signer(() => readPassword());
    const pem = publicKeyPem(signer.publicKey);
    process.stdout.write(this.jsonEnabled() ? '' : pem);
    return { publicKey: pem, fingerprint: keyFingerprint(signer.publicKey) };
  }
}
