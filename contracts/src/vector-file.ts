import { z } from 'zod';
import { SUPPORTED_ALGORITHMS } from './constants.js';
import { REASON_NAMES, type Reason } from './reasons.js';

export const VECTOR_FILE_VERSION = 1;

const reasonNames = REASON_NAMES as unknown as [Reason, ...Reason[]];

export const OutcomeSchema = z
  .object({
    status: z.union([z.literal(200), z.literal(401), z.literal(403), z.literal(503)]),
    reason: z.enum(reasonNames),
  })
  .strict();

export const PublicJwkSchema = z.looseObject({
  kty: z.enum(['RSA', 'EC']),
  kid: z.string().min(1),
  alg: z.enum(SUPPORTED_ALGORITHMS),
  use: z.literal('sig'),
});

export const TestPrivateKeySchema = z
  .object({
    kid: z.string().min(1),
    alg: z.enum(SUPPORTED_ALGORITHMS),
    pkcs8Pem: z.string().startsWith('-----BEGIN PRIVATE KEY-----'),
  })
  .strict();

export const SignedContentSchema = z
  .object({
    header: z
      .record(z.string(), z.unknown())
      .describe('The protected header exactly as signed (member order kept).'),
    claims: z
      .record(z.string(), z.unknown())
      .describe('The claims set exactly as signed (member order kept).'),
    signingKid: z
      .string()
      .nullable()
      .describe('kid of the testPrivateKeys entry that produced the signature; null when not signed by one.'),
    deterministic: z
      .boolean()
      .describe(
        'true when re-signing reproduces the token byte for byte (RS256 PKCS#1 v1.5); false for ES256.',
      ),
    producedBySigner: z
      .boolean()
      .describe('true when a conforming signer, given these claims and key, emits exactly this token.'),
  })
  .strict();

export const VectorSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/),
    description: z.string().min(1),
    token: z
      .string()
      .describe('The compact JWT presented in the token position (may be deliberately malformed).'),
    scope: z
      .array(z.string().min(1))
      .min(1)
      .describe('Scopes the endpoint requires; every one must be granted.'),
    algorithms: z
      .array(z.enum(SUPPORTED_ALGORITHMS))
      .min(1)
      .optional()
      .describe('Overrides the file-level allowed algorithms for this vector only.'),
    expect: z
      .array(OutcomeSchema)
      .min(1)
      .describe('Outcome of each presentation, in order, against one fresh replay store.'),
    signed: SignedContentSchema.optional(),
  })
  .strict();

export const SequenceStepSchema = z
  .object({
    token: z.string().describe('The compact JWT presented at this step.'),
    scope: z
      .array(z.string().min(1))
      .min(1)
      .describe('Scopes the endpoint of this step requires; every one must be granted.'),
    expect: OutcomeSchema.describe('Outcome of presenting this token once, after every earlier step.'),
    signed: SignedContentSchema.optional(),
  })
  .strict();

export const SequenceSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/),
    description: z.string().min(1),
    issuers: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Overrides the allowed issuers (file-level: [issuer]) for this sequence only.'),
    algorithms: z
      .array(z.enum(SUPPORTED_ALGORITHMS))
      .min(1)
      .optional()
      .describe('Overrides the file-level allowed algorithms for this sequence only.'),
    steps: z
      .array(SequenceStepSchema)
      .min(2)
      .describe('Presented in order to ONE verifier with ONE fresh replay store (pins the replay key).'),
  })
  .strict();

export const VectorFileSchema = z
  .object({
    $schema: z.string().optional(),
    version: z.literal(VECTOR_FILE_VERSION),
    description: z.string(),
    now: z.int().nonnegative().describe('Unix time in seconds at which every vector is evaluated.'),
    issuer: z.string().min(1).describe('The one allowed issuer.'),
    audience: z.string().min(1).describe("The verifier's audience."),
    algorithms: z.array(z.enum(SUPPORTED_ALGORITHMS)).min(1),
    clockSkewSeconds: z.int().nonnegative(),
    maxTtlSeconds: z.int().positive(),
    maxTokenLength: z.int().positive(),
    jwks: z.object({ keys: z.array(PublicJwkSchema).min(1) }).strict(),
    testPrivateKeys: z
      .object({
        warning: z.string(),
        keys: z.array(TestPrivateKeySchema).min(1),
      })
      .strict(),
    vectors: z.array(VectorSchema).min(1),
    sequences: z
      .array(SequenceSchema)
      .describe('Stateful cases: several tokens on one replay store. Ids are unique across vectors too.'),
  })
  .strict();

export type Outcome = z.infer<typeof OutcomeSchema>;
export type TestPrivateKey = z.infer<typeof TestPrivateKeySchema>;
export type SignedContent = z.infer<typeof SignedContentSchema>;
export type Vector = z.infer<typeof VectorSchema>;
export type SequenceStep = z.infer<typeof SequenceStepSchema>;
export type Sequence = z.infer<typeof SequenceSchema>;
export type VectorFile = z.infer<typeof VectorFileSchema>;
