import { decodeStrictBase64url, MAX_TOKEN_LENGTH, parseStrictJsonObject } from '@hyper/s2s-contracts';

/** The JOSE header and claims of a compact JWS, parsed strictly; the signature is left to jose. */
export interface DecodedToken {
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
  /** The header segment as sent (the key of VerifiedHeaders). */
  readonly headerSegment: string;
  /**
   * The header came from VerifiedHeaders: the same segment already passed the header rules and a
   * signature check on this verifier, so its rules need not run again.
   */
  readonly headerKnown: boolean;
}

/**
 * Headers already seen on a token whose signature verified, by their exact segment. A signer sends
 * the same header on every token, so its parse and its header rules are skipped after the first; only
 * headers that passed the rules and a signature check get in, so the cache cannot be filled by anyone
 * without a signing key. One per verifier: the rules depend on its algorithm allow-list.
 */
export class VerifiedHeaders {
  static readonly MAX = 64;
  readonly #bySegment = new Map<string, LearntHeader>();
  // The last header found, compared before the map: a signer sends one header, and comparing a segment
  // costs less than hashing it (each token's segment is a new string, its hash not yet computed).
  #last: LearntHeader | undefined;

  get(segment: string): Readonly<Record<string, unknown>> | undefined {
    const last = this.#last;
    if (last !== undefined && segment === last.segment) return last.header;
    const learnt = this.#bySegment.get(segment);
    if (learnt === undefined) return undefined;
    this.#last = learnt;
    return learnt.header;
  }

  remember(decoded: DecodedToken): void {
    if (this.#bySegment.has(decoded.headerSegment)) return;
    if (this.#bySegment.size >= VerifiedHeaders.MAX) this.#bySegment.clear();
    // A copy, not the segment: V8 keeps a slice's whole parent string alive, and the cache would keep
    // the token it was cut from in memory (a heap dump) for as long as it holds the header.
    // (A segment is strict base64url, so ASCII: UTF-8 copies it exactly.)
    const segment = Buffer.from(decoded.headerSegment).toString();
    const learnt: LearntHeader = { segment, header: Object.freeze(decoded.header) };
    this.#bySegment.set(segment, learnt);
    this.#last = learnt;
  }
}

/** A cached header with its segment (a copy owned by the cache, never a slice of a token). */
interface LearntHeader {
  readonly segment: string;
  readonly header: Readonly<Record<string, unknown>>;
}

// Decoded segments land here rather than in a new Buffer per call: a token is at most MAX_TOKEN_LENGTH
// characters, so a segment decodes to fewer bytes than that. Decoding is synchronous, so one suffices.
const scratch = Buffer.allocUnsafe(MAX_TOKEN_LENGTH);

/** A strict base64url segment (SPEC.md T4) decoded into `scratch`: its byte length, or -1 when it is not strict. */
function decodeStrict(segment: string): number {
  return decodeStrictBase64url(segment, scratch);
}

/**
 * Whether `segment` is strict base64url (see decodeStrict) and decodes within the parser's buffer: a
 * longer one is cut short there, so it never re-encodes to itself and is refused.
 */
export function isStrictBase64url(segment: string): boolean {
  return decodeStrict(segment) !== -1;
}

/** A strict base64url segment holding a strict JSON object (SPEC.md T4, J1-J8); undefined when malformed. */
function parseObjectSegment(segment: string): Record<string, unknown> | undefined {
  const length = decodeStrict(segment);
  return length === -1 ? undefined : parseStrictJsonObject(scratch.subarray(0, length));
}

/** A compact JWS split at its first two dots, its header parsed; payload and signature not checked yet. */
export interface DecodedHead {
  readonly header: Record<string, unknown>;
  readonly headerSegment: string;
  readonly headerKnown: boolean;
  readonly payloadSegment: string;
  readonly signatureSegment: string;
}

/**
 * The first step of decodeCompact: the size cap (checked before any other work), two dots, and a
 * strict JSON object header. Undefined when malformed.
 */
export function decodeHead(token: string, verified?: VerifiedHeaders): DecodedHead | undefined {
  if (token.length > MAX_TOKEN_LENGTH) return undefined;
  const first = token.indexOf('.');
  // Fewer than two dots: -1 here (with no dot at all, this searches from 0 and finds none either).
  const second = token.indexOf('.', first + 1);
  if (second === -1) return undefined;
  const headerSegment = token.slice(0, first);
  const known = verified?.get(headerSegment);
  const header = known ?? parseObjectSegment(headerSegment);
  if (header === undefined) return undefined;
  return {
    header,
    headerSegment,
    headerKnown: known !== undefined,
    payloadSegment: token.slice(first + 1, second),
    signatureSegment: token.slice(second + 1),
  };
}

/**
 * The second step of decodeCompact: a strict base64url signature (a third dot fails here: the
 * alphabet has no '.') and a strict JSON object payload, returned; undefined when malformed.
 */
export function decodeBody(head: DecodedHead): Record<string, unknown> | undefined {
  if (decodeStrict(head.signatureSegment) === -1) return undefined;
  return parseObjectSegment(head.payloadSegment);
}

/**
 * Splits and decodes a compact JWS. Returns undefined for anything malformed: over the size cap
 * (checked before any other work), not exactly three segments, non-strict base64url, invalid UTF-8,
 * header or payload not a JSON object, duplicate member names at any depth (RFC 7519 §4 lets us
 * refuse them), or a number that overflows a double.
 */
export function decodeCompact(token: string, verified?: VerifiedHeaders): DecodedToken | undefined {
  const head = decodeHead(token, verified);
  if (head === undefined) return undefined;
  const payload = decodeBody(head);
  if (payload === undefined) return undefined;
  return { header: head.header, payload, headerSegment: head.headerSegment, headerKnown: head.headerKnown };
}
