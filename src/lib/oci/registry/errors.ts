/**
 * Registry error responses to AionErrors the user can act on. Bodies may be JSON (`{"errors":[{code,message}]}`)
 * or anything else (distribution answers some 404s with plain text), so both are handled.
 */
import { AionError, type ErrorCode } from '../../errors/index.js';
import { sanitizeForTerminal } from '../../text/index.js';

export interface RegistryErrorContext {
  /** What we were doing, e.g. `pull manifest 1.0 from 127.0.0.1:5000/team/agent`. */
  action: string;
  /** Registry host, for login hints. */
  host: string;
  /** What a plain 404 means here. */
  notFound?: 'manifest' | 'blob' | 'repository' | 'upload';
}

interface RegistryErrorBody {
  errors?: { code?: string; message?: string; detail?: unknown }[];
}

const CODE_MAP: Record<string, { code: ErrorCode; hint: (ctx: RegistryErrorContext) => string }> = {
  MANIFEST_UNKNOWN: { code: 'RG003', hint: () => 'check the tag or digest; list tags with `aionctl tags REF`' },
  NAME_UNKNOWN: { code: 'RG004', hint: () => 'check the repository name (a push creates it)' },
  BLOB_UNKNOWN: { code: 'RG005', hint: () => 'the registry lost a blob; push the artifact again' },
  UNAUTHORIZED: {
    code: 'RG006',
    hint: (c) => `log in with \`aionctl login ${c.host}\` (or check the stored credentials)`,
  },
  DENIED: { code: 'RG007', hint: () => 'the account lacks permission for this repository; ask its owner for access' },
  TOOMANYREQUESTS: { code: 'RG008', hint: (c) => `wait and retry; logging in to ${c.host} often raises the limit` },
  MANIFEST_INVALID: { code: 'RG011', hint: () => 'the registry rejected the manifest; check its media type' },
  MANIFEST_BLOB_UNKNOWN: { code: 'RG018', hint: () => 'push the blobs before the manifest (retry the push)' },
  NAME_INVALID: { code: 'RG019', hint: () => 'use lowercase letters, digits and . _ - / in repository names' },
  BLOB_UPLOAD_INVALID: { code: 'RG012', hint: () => 'retry the push; try a smaller --chunk-size behind proxies' },
  BLOB_UPLOAD_UNKNOWN: { code: 'RG012', hint: () => 'the upload session expired; retry the push' },
  SIZE_INVALID: { code: 'RG012', hint: () => 'the content changed while uploading; retry the push' },
  DIGEST_INVALID: { code: 'RG012', hint: () => 'the registry computed a different digest; retry the push' },
  UNSUPPORTED: { code: 'RG013', hint: () => 'this registry does not support the operation' },
  TAG_INVALID: { code: 'RG001', hint: () => 'use a tag of letters, digits, _ . - (max 128)' },
};

function statusFallback(status: number, ctx: RegistryErrorContext): { code: ErrorCode; hint: string } {
  if (status === 401) return { code: 'RG006', hint: CODE_MAP.UNAUTHORIZED!.hint(ctx) };
  if (status === 403) return { code: 'RG007', hint: CODE_MAP.DENIED!.hint(ctx) };
  if (status === 429) return { code: 'RG008', hint: CODE_MAP.TOOMANYREQUESTS!.hint(ctx) };
  if (status === 413) return { code: 'RG010', hint: 'the registry refused the size of the request' };
  if (status === 405) return { code: 'RG013', hint: CODE_MAP.UNSUPPORTED!.hint(ctx) };
  if (status === 404) {
    switch (ctx.notFound) {
      case 'blob':
        return { code: 'RG005', hint: CODE_MAP.BLOB_UNKNOWN!.hint(ctx) };
      case 'repository':
        return { code: 'RG004', hint: CODE_MAP.NAME_UNKNOWN!.hint(ctx) };
      case 'upload':
        return { code: 'RG012', hint: 'the upload session is gone; retry the push' };
      default:
        return { code: 'RG003', hint: CODE_MAP.MANIFEST_UNKNOWN!.hint(ctx) };
    }
  }
  if (status >= 500) return { code: 'RG014', hint: `${ctx.host} is failing; retry later or check its status` };
  return { code: 'RG015', hint: 'the registry answered something aionctl does not expect; rerun with --debug' };
}

/** Builds the AionError for a failed response; `bodyText` is the (small, already read) response body. */
export function registryError(status: number, bodyText: string, ctx: RegistryErrorContext): AionError {
  let first: { code?: string; message?: string } | undefined;
  try {
    first = (JSON.parse(bodyText) as RegistryErrorBody).errors?.[0];
  } catch {
    first = undefined;
  }
  const mapped = first?.code ? CODE_MAP[first.code] : undefined;
  const { code, hint } = mapped ? { code: mapped.code, hint: mapped.hint(ctx) } : statusFallback(status, ctx);
  // What the registry said is shown to the user: control characters and escape sequences are made visible.
  const said = sanitizeForTerminal(
    first?.code
      ? `${String(first.code).slice(0, 100)}${first.message ? `: ${String(first.message).slice(0, 300)}` : ''}`
      : bodyText
          .trim()
          .slice(0, 200)
          .replace(/[ \t\r\n]+/g, ' ') || 'no details',
  );
  return new AionError(code, `${ctx.action}: registry answered ${status} (${said})`, {
    hint,
    details: {
      status,
      ...(first?.code ? { registryCode: sanitizeForTerminal(String(first.code).slice(0, 100)) } : {}),
    },
  });
}
