import { describe, expect, it } from 'vitest';
import { CLAIM_NAMES, KNOWN_SCOPES, loadVectors, type Reason } from '../src/index.js';

const byId = new Map(loadVectors().vectors.map((v) => [v.id, v]));

/** The coverage the contract and issue #2 require, by id: deleting or weakening a case fails here. */
const REQUIRED: Array<[id: string, reasons: Reason[]]> = [
  ['valid-spaces-create', ['ok']],
  ['valid-join-tokens-issue', ['ok']],
  ['valid-both-scopes', ['ok']],
  ['unknown-kid', ['unknown_kid']],
  ['invalid-audience', ['invalid_audience']],
  ['invalid-issuer', ['invalid_issuer']],
  ['missing-claim-scope', ['missing_claim(scope)']],
  ['expired', ['expired_signature']],
  ['not-yet-valid', ['immature_signature']],
  ['exp-within-skew', ['ok']],
  ['exp-at-skew', ['expired_signature']],
  ['nbf-at-skew', ['ok']],
  ['nbf-past-skew', ['immature_signature']],
  ['iat-at-skew', ['ok']],
  ['iat-in-future', ['invalid_iat']],
  ['ttl-300', ['ok']],
  ['ttl-301', ['ttl_exceeded']],
  ...CLAIM_NAMES.map((c): [string, Reason[]] => [`missing-claim-${c}`, [`missing_claim(${c})`]]),
  ['invalid-claim-exp-string', ['invalid_claim(exp)']],
  ['invalid-claim-iss-number', ['invalid_claim(iss)']],
  ['invalid-claim-aud-number', ['invalid_claim(aud)']],
  ['invalid-claim-scope-array', ['invalid_claim(scope)']],
  ['invalid-claim-jti-too-long', ['invalid_claim(jti)']],
  ['malformed-two-segments', ['malformed_token']],
  ['malformed-four-segments', ['malformed_token']],
  ['malformed-bad-base64url', ['malformed_token']],
  ['malformed-padding', ['malformed_token']],
  ['malformed-header-not-json', ['malformed_token']],
  ['malformed-payload-not-json', ['malformed_token']],
  ['malformed-duplicate-header-member', ['malformed_token']],
  ['malformed-duplicate-claim', ['malformed_token']],
  ['malformed-over-size-cap', ['malformed_token']],
  ['alg-none', ['invalid_algorithm']],
  ['alg-hs256-public-key', ['invalid_algorithm']],
  ['bad-signature', ['invalid_signature']],
  ['header-typ-wrong', ['invalid_header']],
  ['header-kid-missing', ['invalid_header']],
  ['es256-not-allowed', ['invalid_algorithm']],
  ['insufficient-scope', ['insufficient_scope']],
  ['replayed-jti', ['ok', 'replayed_token']],
  ['valid-aud-array', ['ok']],
];

describe('vector coverage', () => {
  it.each(REQUIRED)('includes %s with outcome %j', (id, reasons) => {
    expect(byId.get(id)?.expect.map((o) => o.reason)).toEqual(reasons);
  });

  it.each([...KNOWN_SCOPES])('has a valid token for the known scope %s', (scope) => {
    const hit = [...byId.values()].find(
      (v) => v.expect[0]!.reason === 'ok' && v.scope.length === 1 && v.scope[0] === scope,
    );
    expect(hit).toBeDefined();
  });

  it('evaluates the ES256-allowed vector with both algorithms', () => {
    expect(byId.get('valid-es256-when-allowed')?.algorithms).toEqual(['RS256', 'ES256']);
  });
});
