import assert from 'node:assert/strict';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Target } from '../../src/lib/oci/types.js';
import {
  SIGNATURE_ANNOTATION,
  attachmentTag,
  buildSignatureManifest,
  readClassicSignatures,
} from '../../src/lib/sign/index.js';
import { type CliResult, parseJson } from '../helpers/cli.js';
import { pushArtifact } from './fixtures.js';

const errorCode = (r: CliResult) => parseJson<{ error: { code: string } }>(r).error.code;

/** sign → verify → tamper → reject on one kind of place. */
export async function signVerifyTamper(
  target: Target,
  ref: (selector: string) => string,
  cli: (args: string[]) => Promise<CliResult>,
  keysDir: string,
): Promise<void> {
  const a = await pushArtifact(target, '1.0.0');
  const b = await pushArtifact(target, '2.0.0');
  const k1 = join(keysDir, 'k1');
  const k2 = join(keysDir, 'k2');

  const unsigned = await cli(['verify', ref(':1.0.0'), '--key', `${k1}.pub`, '--json']);
  assert.equal(unsigned.code, 6, unsigned.stdout);
  assert.equal(errorCode(unsigned), 'ST001');

  const signed = await cli(['sign', ref(':1.0.0'), '--key', `${k1}.key`, '--json']);
  assert.equal(signed.code, 0, signed.stdout + signed.stderr);
  const sr = parseJson<{ digest: string; signatureTag: string; added: boolean; signatures: number }>(signed);
  assert.equal(sr.digest, a.digest, 'the tag was resolved to the digest');
  assert.equal(sr.signatureTag, attachmentTag(a.digest));

  // Independent check of what was stored: node:crypto over the stored payload with the .pub file.
  const layers = await readClassicSignatures(target, a.digest);
  assert.equal(layers.length, 1);
  const pub = createPublicKey(await readFile(`${k1}.pub`, 'utf8'));
  assert.ok(
    nodeVerify('sha256', layers[0]!.payload, pub, Buffer.from(layers[0]!.annotations[SIGNATURE_ANNOTATION]!, 'base64')),
  );
  assert.equal(JSON.parse(layers[0]!.payload.toString()).critical.image['docker-manifest-digest'], a.digest);

  const ok = await cli(['verify', ref(':1.0.0'), '--key', `${k1}.pub`, '--json']);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const payloads = parseJson<Array<{ critical: { image: Record<string, string>; type: string } }>>(ok);
  assert.equal(payloads.length, 1);
  assert.equal(payloads[0]!.critical.image['docker-manifest-digest'], a.digest);
  assert.equal(payloads[0]!.critical.type, 'cosign container image signature');

  const wrongKey = await cli(['verify', ref(':1.0.0'), '--key', `${k2}.pub`, '--json']);
  assert.equal(errorCode(wrongKey), 'ST002');
  const otherRepo = await cli([
    'verify',
    ref(':1.0.0'),
    '--key',
    `${k1}.pub`,
    '--identity',
    'registry.example/other',
    '--json',
  ]);
  assert.equal(errorCode(otherRepo), 'ST004');

  // Signing again with the same key adds nothing; another key appends a layer; both verify.
  const again = await cli(['sign', ref(`@${a.digest}`), '--key', `${k1}.key`, '--json']);
  assert.equal(parseJson<{ added: boolean; signatures: number }>(again).added, false);
  const second = await cli(['sign', ref(':1.0.0'), '--key', `${k2}.key`, '-a', 'ci=yes', '--json']);
  assert.equal(parseJson<{ signatures: number }>(second).signatures, 2);
  const both = await cli(['verify', ref(':1.0.0'), '--key', `${k2}.pub`, '--json']);
  assert.equal(both.code, 0, both.stdout);
  assert.deepEqual(parseJson<Array<{ optional: unknown }>>(both)[0]!.optional, { ci: 'yes' });

  const claim = await cli(['verify', ref(':1.0.0'), '--key', `${k2}.pub`, '-a', 'ci=yes', '--json']);
  assert.equal(claim.code, 0, claim.stdout);
  const noClaim = await cli(['verify', ref(':1.0.0'), '--key', `${k1}.pub`, '-a', 'ci=yes', '--json']);
  assert.equal(errorCode(noClaim), 'ST015');

  // Tamper 1: the signature manifest of A moved onto B (signature for another digest).
  const sigA = await target.fetchManifest(attachmentTag(a.digest));
  await target.pushManifest(sigA.descriptor, sigA.bytes, attachmentTag(b.digest));
  const swapped = await cli(['verify', ref(':2.0.0'), '--key', `${k1}.pub`, '--json']);
  assert.equal(swapped.code, 6);
  assert.equal(errorCode(swapped), 'ST003');

  // Tamper 2: payload rewritten (consistently re-hashed) but the old signature kept.
  const forged = layers.map((l) => ({
    ...l,
    payload: Buffer.from(l.payload.toString().replace('"optional":null', '"optional":{"evil":"1"}')),
  }));
  const built = buildSignatureManifest(forged);
  await target.pushBlob(built.config.descriptor, built.config.bytes);
  for (const l of built.layers) if (!(await target.exists(l.descriptor))) await target.pushBlob(l.descriptor, l.bytes);
  await target.pushManifest(built.descriptor, built.manifest, attachmentTag(a.digest));
  const tampered = await cli(['verify', ref(':1.0.0'), '--key', `${k1}.pub`, '--json']);
  assert.equal(tampered.code, 6);
  assert.equal(errorCode(tampered), 'ST002');
}
