import { randomBytes } from 'node:crypto';
import { KeyManagementServiceClient } from '@google-cloud/kms';
import type * as GrpcJs from '@grpc/grpc-js';
import { crc32c } from '../kms/crc32c.js';
import {
  type InjectedError,
  type KmsFaults,
  NO_FAULTS,
  otherVersionName,
  takeInjectedError,
} from './faults.js';
import { createTestKey, type KmsTestKeySpec, KmsTestServerError, type TestKey } from './keys.js';
import { grpc, loadKeyManagementService } from './protos.js';

export interface KmsTestServerOptions {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
}

export interface KmsTestClientOptions {
  /** Deadline of AsymmetricSign and GetPublicKey calls (the client's default is 60 s). */
  timeoutMs?: number;
}

export interface KmsTestServer {
  readonly port: number;
  /** Adds (or replaces) a key version, e.g. `projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1`. */
  addKey(keyVersionName: string, spec: KmsTestKeySpec): { publicKeyPem: string };
  /**
   * Sets a key version's state, as `UpdateCryptoKeyVersion` / `DestroyCryptoKeyVersion` would. Only an
   * ENABLED version signs or gives out its public key; the others answer FAILED_PRECONDITION, as KMS does.
   */
  setKeyState(keyVersionName: string, state: KmsTestKeyState): void;
  setFaults(faults: Partial<KmsFaults>): void;
  resetFaults(): void;
  /** RPCs received so far, faulted ones and client retries included. */
  readonly calls: {
    readonly asymmetricSign: number;
    readonly getPublicKey: number;
    readonly getCryptoKeyVersion: number;
  };
  /** The real @google-cloud/kms client, over plaintext gRPC to this server, without any credential lookup. */
  client(options?: KmsTestClientOptions): KeyManagementServiceClient;
  /** Stops the server (in-flight calls are cancelled) and closes the clients it handed out. */
  close(): Promise<void>;
}

const SERVICE = 'google.cloud.kms.v1.KeyManagementService';

interface AsymmetricSignRequest {
  name?: string;
  digest?: { sha256?: Buffer; sha384?: Buffer; sha512?: Buffer };
  digestCrc32c?: { value?: string };
}
interface GetPublicKeyRequest {
  name?: string;
}

/** The CryptoKeyVersionState values the test server models. */
export type KmsTestKeyState = 'ENABLED' | 'DISABLED' | 'DESTROY_SCHEDULED' | 'DESTROYED';
const KEY_STATES: ReadonlySet<string> = new Set(['ENABLED', 'DISABLED', 'DESTROY_SCHEDULED', 'DESTROYED']);

/** A gRPC error to send back, as the real service would. */
class RpcError extends Error {
  constructor(
    readonly code: GrpcJs.status,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Starts a local google.cloud.kms.v1.KeyManagementService (AsymmetricSign, GetPublicKey and
 * GetCryptoKeyVersion; every other
 * method answers UNIMPLEMENTED) for tests that drive the real KMS client.
 *
 * @example
 * ```ts
 * import { createSigner } from '@hyper/s2s-signer';
 * import { startKmsTestServer } from '@hyper/s2s-signer/testing';
 *
 * const kms = await startKmsTestServer(); // listens on 127.0.0.1, a free port
 * const keyVersionName = 'projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1';
 * kms.addKey(keyVersionName, { algorithm: 'RSA_SIGN_PKCS1_2048_SHA256' });
 * const signer = createSigner({
 *   key: { kms: { keyVersionName, client: kms.client() }, kid: 'lite-2026-03' },
 *   issuer: 'hyper-lite',
 *   subject: 'hyper-lite-gateway',
 *   audience: 'hyper-core',
 * });
 * await signer.sign({ scope: 'spaces:create' }); // through the real @google-cloud/kms client
 * kms.setFaults({ unavailableTimes: 3 }); // the next three calls answer UNAVAILABLE
 * await signer.close();
 * await kms.close();
 * ```
 */
export async function startKmsTestServer(options: KmsTestServerOptions = {}): Promise<KmsTestServer> {
  const host = options.host ?? '127.0.0.1';
  const keys = new Map<string, TestKey>();
  const states = new Map<string, KmsTestKeyState>();
  let faults: KmsFaults = { ...NO_FAULTS };
  const counts = { asymmetricSign: 0, getPublicKey: 0, getCryptoKeyVersion: 0 };
  const timers = new Set<NodeJS.Timeout>();
  const clients = new Set<KeyManagementServiceClient>();

  function keyFor(name: string | undefined): TestKey {
    const key = name === undefined ? undefined : keys.get(name);
    if (!key) throw new RpcError(grpc.status.NOT_FOUND, `CryptoKeyVersion ${String(name)} not found.`);
    return key;
  }

  /** The key of an ENABLED version; KMS refuses key material of any other state with FAILED_PRECONDITION. */
  function enabledKeyFor(name: string | undefined): TestKey {
    const key = keyFor(name);
    const state = states.get(name ?? '') ?? 'ENABLED';
    if (state !== 'ENABLED') {
      throw new RpcError(
        grpc.status.FAILED_PRECONDITION,
        `The request cannot be fulfilled. Resource ${String(name)} has value ${state} in field crypto_key_version.state.`,
      );
    }
    return key;
  }

  function asymmetricSign(request: AsymmetricSignRequest) {
    const name = request.name ?? '';
    const key = enabledKeyFor(name);
    const digest = request.digest?.sha256;
    if (digest?.length !== 32) {
      throw new RpcError(grpc.status.INVALID_ARGUMENT, `${key.algorithm} requires a 32-byte digest.sha256.`);
    }
    const sentCrc = request.digestCrc32c;
    if (sentCrc && BigInt(sentCrc.value ?? '0') !== BigInt(crc32c(digest))) {
      throw new RpcError(grpc.status.INVALID_ARGUMENT, 'digest_crc32c does not match digest.');
    }
    const signature = key.signDigest(faults.badSignature ? randomBytes(32) : digest);
    const signatureCrc = crc32c(signature);
    return {
      signature,
      signatureCrc32c: { value: String(faults.wrongSignatureCrc ? (signatureCrc ^ 1) >>> 0 : signatureCrc) },
      verifiedDigestCrc32c: sentCrc !== undefined && !faults.unverifiedDigestCrc,
      name: faults.wrongName ? otherVersionName(name) : name,
      protectionLevel: 'SOFTWARE',
    };
  }

  function getPublicKey(request: GetPublicKeyRequest) {
    const name = request.name ?? '';
    const key = enabledKeyFor(name);
    const pemCrc = crc32c(key.publicKeyPem);
    return {
      pem: key.publicKeyPem,
      pemCrc32c: { value: String(faults.wrongPemCrc ? (pemCrc ^ 1) >>> 0 : pemCrc) },
      algorithm: key.algorithm,
      name: faults.wrongName ? otherVersionName(name) : name,
      protectionLevel: 'SOFTWARE',
    };
  }

  function getCryptoKeyVersion(request: GetPublicKeyRequest) {
    const name = request.name ?? '';
    const key = keyFor(name);
    return {
      name: faults.wrongName ? otherVersionName(name) : name,
      state: states.get(name) ?? 'ENABLED',
      algorithm: key.algorithm,
      protectionLevel: 'SOFTWARE',
    };
  }

  function unary<Req, Res>(
    method: keyof typeof counts,
    answer: (request: Req) => Res,
  ): GrpcJs.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      counts[method]++;
      // Injected errors are taken in arrival order, so "the next n calls" is deterministic under latency.
      const injected: InjectedError | undefined = takeInjectedError(faults);
      const respond = () => {
        if (injected) {
          callback({ code: grpc.status[injected], details: `KMS test server: injected ${injected}` });
          return;
        }
        try {
          callback(null, answer(call.request));
        } catch (error) {
          const code = error instanceof RpcError ? error.code : grpc.status.INTERNAL;
          callback({ code, details: error instanceof Error ? error.message : String(error) });
        }
      };
      if (faults.latencyMs <= 0) return respond();
      const timer = setTimeout(() => {
        timers.delete(timer);
        respond();
      }, faults.latencyMs);
      timers.add(timer);
    };
  }

  const server = new grpc.Server();
  server.addService(loadKeyManagementService(), {
    AsymmetricSign: unary('asymmetricSign', asymmetricSign),
    GetPublicKey: unary('getPublicKey', getPublicKey),
    GetCryptoKeyVersion: unary('getCryptoKeyVersion', getCryptoKeyVersion),
  });
  const bindHost = host.includes(':') ? `[${host}]` : host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      `${bindHost}:${options.port ?? 0}`,
      grpc.ServerCredentials.createInsecure(),
      (error, bound) => (error ? reject(error) : resolve(bound)),
    );
  });
  // A wildcard listen address is reachable through loopback.
  const clientHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;

  return {
    port,
    addKey(keyVersionName, spec) {
      const key = createTestKey(spec);
      keys.set(keyVersionName, key);
      states.set(keyVersionName, 'ENABLED');
      return { publicKeyPem: key.publicKeyPem };
    },
    setKeyState(keyVersionName, state) {
      if (!keys.has(keyVersionName)) {
        throw new KmsTestServerError('ERR_S2S_KMS_TEST_UNKNOWN_KEY', `no key version ${keyVersionName}`);
      }
      if (!KEY_STATES.has(state)) {
        throw new KmsTestServerError(
          'ERR_S2S_KMS_TEST_UNKNOWN_STATE',
          `unsupported key state ${String(state)}`,
        );
      }
      states.set(keyVersionName, state);
    },
    setFaults(partial) {
      faults = { ...faults, ...partial };
    },
    resetFaults() {
      faults = { ...NO_FAULTS };
    },
    get calls() {
      return { ...counts };
    },
    client(clientOptions = {}) {
      const client = new KeyManagementServiceClient({
        apiEndpoint: clientHost,
        port,
        sslCreds: grpc.credentials.createInsecure(),
        // With the universe domain given, google-auth-library never looks for credentials
        // (no metadata-server probe, no ADC file); sslCreds replaces call credentials entirely.
        universeDomain: 'googleapis.com',
        ...(clientOptions.timeoutMs === undefined
          ? {}
          : { clientConfig: deadlineConfig(clientOptions.timeoutMs) }),
      });
      clients.add(client);
      return client;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.all([...clients].map((client) => client.close()));
      clients.clear();
      server.forceShutdown();
    },
  };
}

/**
 * Overrides the client's 60 s method timeout. gax applies a method timeout as the per-attempt and the
 * total deadline whenever call options are passed; retry codes (UNAVAILABLE, DEADLINE_EXCEEDED) stay.
 */
function deadlineConfig(timeoutMs: number) {
  const method = { timeout_millis: timeoutMs };
  return {
    interfaces: {
      [SERVICE]: { methods: { AsymmetricSign: method, GetPublicKey: method, GetCryptoKeyVersion: method } },
    },
  };
}
