/**
 * The Lite gateway in ADR 0031's mode: it signs through Cloud KMS and publishes, at
 * /.well-known/jwks.json, the key set read from the KMS key versions themselves (current, next,
 * previous), which Core fetches from S2S_JWKS_URL.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createJwksHandler,
  createSigner,
  JWKS_PATH,
  type KeySet,
  type KeySetDocument,
  type KeySetDocumentKey,
  type KeySetFromDocumentOptions,
  type KmsClient,
  keySetFromDocument,
  kmsPublishedKey,
  type PublishableKey,
  type Signer,
} from '@hyper/s2s-signer';
import { CORE_AUDIENCE, LITE_ISSUER, LITE_SUBJECT, liteAuthLog } from './gateway.js';
import type { LiteKms } from './kms-setup.js';

export interface JwksGateway {
  readonly url: string;
  /** What Core gets as S2S_JWKS_URL. */
  readonly jwksUrl: string;
  readonly keySet: KeySet;
  /** JWKS requests answered so far (Core's fetches). */
  readonly jwksRequests: number;
  /** KMS calls the JWKS publication made so far (GetCryptoKeyVersion + GetPublicKey). */
  readonly kmsCallsForJwks: number;
  /** A KMS key version of the document as a key the key set can publish (rotation: publish next). */
  publishable(key: KeySetDocumentKey): PublishableKey;
  /** A KMS signer for a kid of the document (one per kid, shared). */
  signerFor(kid: string, overrides?: Partial<Parameters<typeof createSigner>[0]>): Signer;
  /** A signer for the key set's current key. */
  readonly signer: Signer;
  close(): Promise<void>;
}

export interface JwksGatewayOptions
  extends Pick<KeySetFromDocumentOptions, 'maxTtlSeconds' | 'clockSkewSeconds'> {
  ttlSeconds?: number;
  port?: number;
}

export async function startJwksGateway(
  kms: LiteKms,
  document: KeySetDocument,
  options: JwksGatewayOptions = {},
): Promise<JwksGateway> {
  const { port = 0, ttlSeconds, ...timings } = options;
  // The publication's own view of the real client, counting its calls (signing goes around it).
  let kmsCallsForJwks = 0;
  const real = kms.client as unknown as Required<KmsClient>;
  const client: KmsClient = {
    asymmetricSign: (request, callOptions) => real.asymmetricSign(request, callOptions),
    getPublicKey: (request, callOptions) => {
      kmsCallsForJwks++;
      return real.getPublicKey(request, callOptions);
    },
    getCryptoKeyVersion: (request, callOptions) => {
      kmsCallsForJwks++;
      return real.getCryptoKeyVersion(request, callOptions);
    },
  };
  const publishable = (key: KeySetDocumentKey) =>
    kmsPublishedKey({ kid: key.kid, keyVersionName: key.kmsKeyVersion, client });
  const keySet = keySetFromDocument(document, { ...timings, publish: publishable, logger: liteAuthLog });
  const versionOf = new Map(kms.versions.map((v) => [v.kid, v.kmsKeyVersion]));
  const signers = new Map<string, Signer>();
  const signerFor: JwksGateway['signerFor'] = (kid, overrides) => {
    const keyVersionName = versionOf.get(kid);
    if (keyVersionName === undefined) throw new Error(`no KMS key version for kid ${kid}`);
    const make = () =>
      createSigner({
        key: { kms: { keyVersionName, client: kms.client }, kid },
        issuer: LITE_ISSUER,
        subject: LITE_SUBJECT,
        audience: CORE_AUDIENCE,
        logger: liteAuthLog,
        ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
        ...overrides,
      });
    if (overrides) return make();
    const known = signers.get(kid);
    if (known) return known;
    const signer = make();
    signers.set(kid, signer);
    return signer;
  };

  let jwksRequests = 0;
  const jwks = createJwksHandler(keySet, { logger: liteAuthLog });
  const server: Server = createServer((req, res) => {
    if ((req.url ?? '').split('?', 1)[0] === JWKS_PATH) jwksRequests++;
    jwks(req, res);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    jwksUrl: `${url}${JWKS_PATH}`,
    keySet,
    get jwksRequests() {
      return jwksRequests;
    },
    get kmsCallsForJwks() {
      return kmsCallsForJwks;
    },
    publishable,
    signerFor,
    get signer() {
      return signerFor(keySet.current.kid);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...signers.values()].map((s) => s.close()));
    },
  };
}
