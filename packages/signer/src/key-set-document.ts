import { SignerConfigError } from './errors.js';
import {
  createKeySet,
  type KeySet,
  type KeySetOptions,
  MAX_KEY_SET_SECONDS,
  type PublishableKey,
} from './key-set.js';
import {
  KEY_VERSION_NAME,
  type KmsKeyOptions,
  kmsClientSource,
  validateClient,
} from './kms/kms-signing-key.js';
import { publishedKey } from './kms/published-key.js';
import { requireInteger, requireKid } from './validate.js';

/** One kid <-> KMS key version pair of the key set document. */
export interface KeySetDocumentKey {
  kid: string;
  kmsKeyVersion: string;
}

/**
 * The JWKS-mode key set as operators keep it (a JSON file that `hyper-s2s-keys rotation` edits and the
 * gateway loads): which KMS key version is published under which kid, and in which role.
 */
export interface KeySetDocument {
  maxAgeSeconds?: number;
  verifierCacheSeconds?: number;
  switchPropagationSeconds?: number;
  current: KeySetDocumentKey;
  next?: KeySetDocumentKey & { publishedAt: string };
  previous?: (KeySetDocumentKey & { retireAt: string })[];
}

const TIMINGS = ['maxAgeSeconds', 'verifierCacheSeconds', 'switchPropagationSeconds'] as const;

function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SignerConfigError(field, 'must be an object');
  }
  return value as Record<string, unknown>;
}

function pair(value: unknown, field: string): KeySetDocumentKey {
  const o = object(value, field);
  const kid = requireKid(o.kid, `${field}.kid`);
  if (typeof o.kmsKeyVersion !== 'string' || !KEY_VERSION_NAME.test(o.kmsKeyVersion)) {
    throw new SignerConfigError(
      `${field}.kmsKeyVersion`,
      'must be a full key version name: projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/V',
    );
  }
  return { kid, kmsKeyVersion: o.kmsKeyVersion };
}

function instant(value: unknown, field: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) throw new SignerConfigError(field, 'must be an ISO 8601 time');
  return ms;
}

/** Validates a key set document; every error names the member at fault. Kids and versions are unique. */
export function parseKeySetDocument(value: unknown, field = 'keySet'): KeySetDocument {
  const o = object(value, field);
  const doc: KeySetDocument = { current: pair(o.current, `${field}.current`) };
  for (const name of TIMINGS) {
    const t = o[name];
    if (t === undefined) continue;
    doc[name] = requireInteger(t, `${field}.${name}`, 0, MAX_KEY_SET_SECONDS);
  }
  if (o.next !== undefined) {
    const next = pair(o.next, `${field}.next`);
    const publishedAt = object(o.next, `${field}.next`).publishedAt;
    instant(publishedAt, `${field}.next.publishedAt`);
    doc.next = { ...next, publishedAt: publishedAt as string };
  }
  if (o.previous !== undefined) {
    if (!Array.isArray(o.previous)) throw new SignerConfigError(`${field}.previous`, 'must be an array');
    doc.previous = o.previous.map((p, i) => {
      const at = `${field}.previous[${i}]`;
      const retireAt = object(p, at).retireAt;
      instant(retireAt, `${at}.retireAt`);
      return { ...pair(p, at), retireAt: retireAt as string };
    });
  }
  const all = [doc.current, ...(doc.next ? [doc.next] : []), ...(doc.previous ?? [])];
  const seen = { kid: new Set<string>(), kmsKeyVersion: new Set<string>() };
  for (const key of all) {
    for (const member of ['kid', 'kmsKeyVersion'] as const) {
      if (seen[member].has(key[member])) {
        throw new SignerConfigError(`${field}`, `${member} ${key[member]} appears twice`);
      }
      seen[member].add(key[member]);
    }
  }
  return doc;
}

export interface KeySetFromDocumentOptions
  extends Pick<KeySetOptions, 'now' | 'logger' | 'maxTtlSeconds' | 'clockSkewSeconds'> {
  /** KMS client, deadline and retries for every key version (see KmsKeyOptions). */
  kms?: Omit<KmsKeyOptions, 'keyVersionName'>;
  /** Seconds a KMS public key and state are reused (default 60). */
  recheckSeconds?: number;
  /** How a kid <-> version pair becomes a publishable key; default: kmsPublishedKey. */
  publish?: (key: KeySetDocumentKey) => PublishableKey;
}

/**
 * The key set a document describes, each kid published from its KMS key version. Without `kms.client`
 * one default client is created for all of them; `close()` closes it (a given client, and the keys of
 * a custom `publish`, stay the caller's to close).
 */
export function keySetFromDocument(
  document: KeySetDocument,
  options: KeySetFromDocumentOptions = {},
): KeySet & { close(): Promise<void> } {
  const doc = parseKeySetDocument(document);
  // One client for the whole document, not one per key version (each has its own channel and auth).
  const clients = options.publish
    ? undefined
    : kmsClientSource(validateClient(options.kms?.client, 'keySetFromDocument.kms'));
  const publish =
    options.publish ??
    ((key: KeySetDocumentKey) =>
      publishedKey(
        {
          ...options.kms,
          keyVersionName: key.kmsKeyVersion,
          kid: key.kid,
          ...(options.recheckSeconds === undefined ? {} : { recheckSeconds: options.recheckSeconds }),
        },
        clients,
      ));
  const timings: Partial<KeySetOptions> = {};
  for (const name of TIMINGS) if (doc[name] !== undefined) timings[name] = doc[name];
  const keySet = createKeySet({
    ...timings,
    ...(options.now ? { now: options.now } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.maxTtlSeconds === undefined ? {} : { maxTtlSeconds: options.maxTtlSeconds }),
    ...(options.clockSkewSeconds === undefined ? {} : { clockSkewSeconds: options.clockSkewSeconds }),
    current: publish(doc.current),
    ...(doc.next ? { next: publish(doc.next), nextPublishedAt: Date.parse(doc.next.publishedAt) } : {}),
    previous: (doc.previous ?? []).map((p) => ({ key: publish(p), retireAt: Date.parse(p.retireAt) })),
  });
  // Added to the key set itself, not a copy: its `current` is a getter that a spread would freeze.
  return Object.assign(keySet, { close: async () => clients?.close() });
}

function versionOf(key: { kid: string; keyVersionName?: string }): string {
  if (key.keyVersionName === undefined) {
    throw new SignerConfigError('keySet', `kid ${key.kid} has no KMS key version to write down`);
  }
  return key.keyVersionName;
}

/** The document of a KMS key set's state now (previous keys past retirement are gone). */
export function keySetToDocument(keySet: KeySet): KeySetDocument {
  const s = keySet.status();
  const { maxAgeSeconds, verifierCacheSeconds, switchPropagationSeconds } = keySet.timings;
  return {
    maxAgeSeconds,
    verifierCacheSeconds,
    switchPropagationSeconds,
    current: { kid: s.current.kid, kmsKeyVersion: versionOf(s.current) },
    ...(s.next
      ? {
          next: {
            kid: s.next.kid,
            kmsKeyVersion: versionOf(s.next),
            publishedAt: new Date(s.next.publishedAt).toISOString(),
          },
        }
      : {}),
    previous: s.previous.map((p) => ({
      kid: p.kid,
      kmsKeyVersion: versionOf(p),
      retireAt: new Date(p.retireAt).toISOString(),
    })),
  };
}
