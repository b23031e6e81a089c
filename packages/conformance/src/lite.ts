import { execFile } from 'node:child_process';
import { createPublicKey, type JsonWebKey, verify } from 'node:crypto';
import {
  CLAIM_NAMES,
  CLOCK_SKEW_SECONDS,
  ClaimsSchema,
  checkPublicJwk,
  decodeStrictBase64url,
  IGNORED_KEY_HEADER_PARAMETERS,
  KID_PATTERN,
  KNOWN_SCOPES,
  MAX_TTL_SECONDS,
  parseStrictJsonObject,
  SUPPORTED_ALGORITHMS,
  strictJsonProblem,
} from '@hyper/s2s-contracts';
import { REQUEST_TIMEOUT_MS } from './present.js';
import { type CheckResult, makeReport, type Report } from './report.js';

export interface LiteOptions {
  readonly jwksUrl: string;
  /** A shell command that prints one fresh token on stdout per run. */
  readonly tokenCommand: string;
  /** Tokens to collect (default 20). */
  readonly count?: number;
  readonly onProgress?: (done: number, total: number, name: string) => void;
}

export const DEFAULT_TOKEN_COUNT = 20;
const COMMAND_TIMEOUT_MS = 30_000;
const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

interface Decoded {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  input: string;
  signature: Buffer;
}

function runCommand(command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      '/bin/sh',
      ['-c', command],
      { timeout: COMMAND_TIMEOUT_MS, maxBuffer: 1 << 20 },
      (error, stdout) =>
        error
          ? reject(new Error(`token command failed: ${error.message.split('\n')[0]}`))
          : resolve(stdout.trim()),
    );
  });
}

/** A segment as a verifier decodes it: strict base64url only (SPEC.md T4), else undefined. */
function segment(text: string): Buffer | undefined {
  // base64url decodes to at most 3 bytes per 4 characters: the text's length is room enough.
  const bytes = Buffer.alloc(text.length);
  const length = decodeStrictBase64url(text, bytes);
  return length === -1 ? undefined : bytes.subarray(0, length);
}

/**
 * A token read as strictly as a verifier reads it (SPEC.md T3, T4, J1-J8, with the contracts' one
 * strict JSON reader), or why a verifier would find it malformed, naming the part and the rule.
 */
function decode(token: string): Decoded | string {
  if (!COMPACT.test(token)) return 'not three base64url segments joined by dots (SPEC.md T3)';
  const [h, p, s] = token.split('.') as [string, string, string];
  const [headerBytes, claimBytes, signature] = [segment(h), segment(p), segment(s)];
  if (headerBytes === undefined || claimBytes === undefined || signature === undefined) {
    const part = headerBytes === undefined ? 'header' : claimBytes === undefined ? 'claims' : 'signature';
    return `the ${part} segment is not canonical base64url (SPEC.md T4)`;
  }
  const header = parseStrictJsonObject(headerBytes);
  const claims = parseStrictJsonObject(claimBytes);
  if (header === undefined || claims === undefined) {
    const [part, bytes] = header === undefined ? ['header', headerBytes] : ['claims', claimBytes];
    const broken = strictJsonProblem(bytes)!;
    return `the ${part}: ${broken.problem} (SPEC.md ${broken.rule})`;
  }
  return { header, claims, input: `${h}.${p}`, signature };
}

/**
 * Problems of one published JWK (empty when it is fine): the contract's key policy (SPEC.md KEY1, the
 * `checkPublicJwk` every verifier applies, so a key it refuses is one no Core holds), then what a signer
 * publishes beyond it: `alg` and `use` stated, and a kid of the `lite-YYYY-MM` convention.
 */
export function jwkProblems(jwk: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const kid = typeof jwk.kid === 'string' ? jwk.kid : '(no kid)';
  const policy = checkPublicJwk(jwk);
  if (!policy.ok) {
    problems.push(
      policy.privateMaterial
        ? `${kid}: private member ${policy.member}`
        : `${kid}: ${policy.member === '' ? '' : `${policy.member} `}${policy.problem}`,
    );
  }
  if (typeof jwk.kid !== 'string' || !KID_PATTERN.test(jwk.kid))
    problems.push(`${kid}: kid is not lite-YYYY-MM`);
  if (jwk.use === undefined) problems.push(`${kid}: use must be "sig"`);
  if (jwk.alg === undefined) problems.push(`${kid}: alg must be one of ${SUPPORTED_ALGORITHMS.join(', ')}`);
  return problems;
}

function verifies(decoded: Decoded, jwk: Record<string, unknown>): boolean {
  try {
    const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    const data = Buffer.from(decoded.input, 'ascii');
    if (decoded.header.alg === 'ES256')
      return verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, decoded.signature);
    return verify('sha256', data, key, decoded.signature);
  } catch {
    return false;
  }
}

/** A token check's answer when the token command gave nothing to check: still a failure, not a pass. */
const NOT_CHECKED = 'not checked: the token command gave no token a verifier reads (see token command)';

/** A check over every token: passes when `problem` finds nothing in any of them. */
function everyToken(
  name: string,
  rule: string,
  expected: string,
  tokens: Decoded[],
  problem: (token: Decoded) => string | undefined,
): CheckResult {
  if (tokens.length === 0) return { name, rule, expected, got: NOT_CHECKED, ok: false };
  const problems = tokens.map(problem).filter((p): p is string => p !== undefined);
  return {
    name,
    rule,
    expected,
    got:
      problems.length === 0
        ? `all ${tokens.length} tokens`
        : `${problems.length} of ${tokens.length}: ${problems[0]}`,
    ok: problems.length === 0,
  };
}

/** Checks a signer from outside: its JWKS and N tokens its command prints. Never prints a token. */
export async function runLiteChecks(options: LiteOptions): Promise<Report> {
  const count = options.count ?? DEFAULT_TOKEN_COUNT;
  const checks: CheckResult[] = [];
  const total = count + 1;

  options.onProgress?.(0, total, 'jwks');
  let keys: Record<string, unknown>[] = [];
  try {
    // As a verifier fetches it (SPEC.md JWKS1, JWKS4): no redirect followed, 200 only. A JWKS served
    // any other way is one no Core can load, however good its keys.
    const response = await fetch(options.jwksUrl, {
      redirect: 'manual',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new Error(
        `HTTP ${response.status}: a verifier takes a JWKS from a 200 only, never follows a redirect`,
      );
    }
    const body = (await response.json()) as { keys?: unknown };
    if (!Array.isArray(body?.keys)) throw new Error(`HTTP ${response.status}, no keys array`);
    keys = body.keys as Record<string, unknown>[];
  } catch (error) {
    checks.push({
      name: 'jwks reachable',
      rule: '',
      expected: '{ keys: [...] }',
      got: (error as Error).message,
      ok: false,
    });
  }
  if (keys.length > 0) {
    const problems = keys.flatMap(jwkProblems);
    const kids = keys.map((k) => k.kid);
    if (new Set(kids).size !== kids.length) problems.push('two keys share a kid');
    checks.push({
      name: 'jwks key policy',
      rule: '',
      expected: 'public RS256 (RSA >= 2048) / ES256 (P-256) keys, use sig, kid lite-YYYY-MM, unique kids',
      got: problems.length === 0 ? `${keys.length} keys fine` : problems.slice(0, 3).join('; '),
      ok: problems.length === 0,
    });
  }

  const tokens: Decoded[] = [];
  const failures: string[] = [];
  for (let i = 0; i < count; i++) {
    options.onProgress?.(i + 1, total, 'token command');
    try {
      const decoded = decode(await runCommand(options.tokenCommand));
      if (typeof decoded === 'string') failures.push(`not a token a verifier reads: ${decoded}`);
      else tokens.push(decoded);
    } catch (error) {
      failures.push((error as Error).message);
    }
  }
  checks.push({
    name: 'token command',
    rule: 'T3 T4 J1-J8',
    expected: `${count} compact ${count === 1 ? 'JWT' : 'JWTs'}`,
    got:
      failures.length === 0
        ? `${tokens.length} ${tokens.length === 1 ? 'token' : 'tokens'}`
        : `${failures.length} failed: ${failures[0]}`,
    ok: failures.length === 0,
  });
  const byKid = new Map(keys.map((k) => [k.kid, k]));
  const now = Math.floor(Date.now() / 1000);

  checks.push(
    everyToken(
      'header',
      'H1 H3 H4',
      'exactly { alg, typ: "JWT", kid }, alg RS256 or ES256',
      tokens,
      ({ header }) => {
        const names = Object.keys(header).sort().join(',');
        if (names !== 'alg,kid,typ') return `members ${names}`;
        if (header.typ !== 'JWT') return `typ ${JSON.stringify(header.typ)}`;
        if (!(SUPPORTED_ALGORITHMS as readonly unknown[]).includes(header.alg))
          return `alg ${JSON.stringify(header.alg)}`;
        if (IGNORED_KEY_HEADER_PARAMETERS.some((p) => p in header)) return 'a key-pointing member';
        return undefined;
      },
    ),
    everyToken(
      'kid convention',
      'H2 K1',
      'kid lite-YYYY-MM, published in the JWKS with the same alg',
      tokens,
      ({ header }) => {
        if (typeof header.kid !== 'string' || !KID_PATTERN.test(header.kid))
          return `kid ${JSON.stringify(header.kid)}`;
        const key = byKid.get(header.kid);
        if (!key) return `kid ${header.kid} not in the JWKS`;
        return key.alg === header.alg
          ? undefined
          : `key ${header.kid} is ${String(key.alg)}, token ${String(header.alg)}`;
      },
    ),
    everyToken('signature', 'S1', 'verifies with the JWKS key of its kid', tokens, (t) => {
      const key = byKid.get(t.header.kid);
      return key && verifies(t, key) ? undefined : 'does not verify';
    }),
    everyToken(
      'claims',
      'C1 C2 C3 C4',
      `all of ${CLAIM_NAMES.join(', ')}, contract types, known scopes`,
      tokens,
      ({ claims }) => {
        const parsed = ClaimsSchema.safeParse(claims);
        if (!parsed.success) return `invalid ${String(parsed.error.issues[0]?.path[0])}`;
        const unknown = parsed.data.scope
          .split(' ')
          .filter((s) => !(KNOWN_SCOPES as readonly string[]).includes(s));
        return unknown.length === 0 ? undefined : `unknown scope ${unknown[0]}`;
      },
    ),
    everyToken('ttl', 'P6', `0 < exp - iat <= ${MAX_TTL_SECONDS}`, tokens, ({ claims }) => {
      const ttl = Number(claims.exp) - Number(claims.iat);
      return ttl > 0 && ttl <= MAX_TTL_SECONDS ? undefined : `exp - iat = ${ttl}`;
    }),
    everyToken(
      'issued now',
      'P4 P5',
      `iat within ${CLOCK_SKEW_SECONDS} s of now, nbf <= iat`,
      tokens,
      ({ claims }) => {
        const iat = Number(claims.iat);
        if (!(Math.abs(iat - now) <= CLOCK_SKEW_SECONDS)) return `iat ${iat - now} s from now`;
        return Number(claims.nbf) <= iat ? undefined : 'nbf after iat';
      },
    ),
  );
  const jtis = tokens.map((t) => t.claims.jti);
  const distinct = new Set(jtis).size;
  checks.push({
    name: 'jti unique',
    rule: 'R1',
    expected: `${tokens.length} distinct jti over ${tokens.length} tokens`,
    got: tokens.length === 0 ? NOT_CHECKED : `${distinct} distinct`,
    ok: tokens.length > 1 && distinct === tokens.length,
  });
  options.onProgress?.(total, total, 'done');
  return makeReport('lite', checks);
}
