import { parseSpecRules, REASONS, type Reason, type SignedContent } from '@hyper/s2s-contracts';
import { vectorFile } from './kit.js';
import { type Answer, present } from './present.js';
import { aboutJti, JtiRenamer, resign } from './recipes.js';
import { type CheckResult, makeReport, type Report } from './report.js';

export interface CoreOptions {
  /** e.g. http://127.0.0.1:8080 */
  readonly baseUrl: string;
  /** Required scope -> path of an endpoint requiring exactly that scope. */
  readonly endpoints: ReadonlyMap<string, string>;
  /** Connections presenting one token at once in the concurrency check (default 16). */
  readonly concurrency?: number;
  readonly method?: string;
  /** Runs only the checks whose name passes (all by default). */
  readonly only?: (name: string) => boolean;
  /** Called before each check runs: done so far, total, the check's name. */
  readonly onProgress?: (done: number, total: number, name: string) => void;
}

export const DEFAULT_CONCURRENCY = 16;
/** Distinct exps in the across-exps check: a token shifted back further would near its expiry. */
const MAX_EXP_SHIFT = 240;

// Reasons decided before any claim: a vector expecting one keeps its outcome whenever it is presented,
// so a vector without a re-signing recipe can still be sent exactly as in the file.
const TIME_INDEPENDENT = new Set<Reason>([
  'missing_token',
  'malformed_token',
  'invalid_header',
  'invalid_algorithm',
  'unknown_kid',
  'invalid_signature',
]);

/** Milliseconds left in the current second below which a token is signed in the next one instead. */
const SECOND_MARGIN_MS = 300;

/**
 * Time claims are whole seconds and the target floors its clock: sign early in a second, so the
 * skew-boundary vectors mean the same on both sides (assumes the target's clock agrees within it).
 */
async function freshSecond(): Promise<number> {
  const ms = Date.now() % 1000;
  if (ms > 1000 - SECOND_MARGIN_MS) await new Promise((r) => setTimeout(r, 1000 - ms + 20));
  return Math.floor(Date.now() / 1000);
}

const outcome = (reason: Reason) => (reason === 'ok' ? '2xx ok' : `${REASONS[reason].status} ${reason}`);

/**
 * An authorised call: any 2xx, since the route, not the verifier, picks the success status (a create
 * answers 201); the verifier's own `ok` is 200.
 */
const accepted = (answer: Answer) => answer.status >= 200 && answer.status <= 299;

/**
 * Status must match (any 2xx for `ok`); the reason too when the target exposes one. A rejection whose
 * body names a reason outside the vocabulary exposes one that cannot match (HTTP2); a 2xx body is the
 * route's own, so only a contract reason in it counts.
 */
function matches(answer: Answer, reason: Reason): boolean {
  if (reason === 'ok') return accepted(answer) && (answer.reason === undefined || answer.reason === 'ok');
  return (
    answer.status === REASONS[reason].status &&
    answer.offVocabulary !== true &&
    (answer.reason === undefined || answer.reason === reason)
  );
}

const describe = (answer: Answer) =>
  `${answer.status} ${answer.reason ?? (answer.offVocabulary ? '(a reason outside the contract vocabulary)' : '(no reason exposed)')}`;

interface Case {
  readonly name: string;
  readonly rule: string;
  run(): Promise<CheckResult>;
}

/** Builds and runs every check against a running Core; never throws for what the target answers. */
export async function runCoreChecks(options: CoreOptions): Promise<Report> {
  const base = new URL(options.baseUrl);
  const method = options.method ?? 'POST';
  const jtis = new JtiRenamer();
  const rulesOf = new Map<string, string[]>();
  for (const rule of parseSpecRules()) {
    for (const id of rule.vectors) rulesOf.set(id, [...(rulesOf.get(id) ?? []), rule.id]);
  }
  const ruleOf = (id: string) => (rulesOf.get(id) ?? []).join(' ');
  const urlFor = (scope: readonly string[]) => {
    const path = scope.length === 1 ? options.endpoints.get(scope[0]!) : undefined;
    return path === undefined ? undefined : new URL(path, base);
  };
  const send = async (url: URL, token: string) => present(url, token === '' ? undefined : token, method);
  /** Builds the token to present now; undefined when the vector cannot be re-created for now. */
  const tokenFor = async (token: string, signed: SignedContent | undefined, reason: Reason) => {
    if (signed !== undefined) return resign(signed, await freshSecond(), jtis, aboutJti(reason));
    return TIME_INDEPENDENT.has(reason) ? token : undefined;
  };

  const cases: Case[] = [];
  const skipped: { name: string; why: string }[] = [];
  const replays: { id: string; answer: Answer }[] = [];

  for (const vector of vectorFile.vectors) {
    const name = `vector ${vector.id}`;
    const url = urlFor(vector.scope);
    const first = vector.expect[0]!.reason;
    if (vector.algorithms)
      skipped.push({ name, why: 'needs an algorithm allow-list other than the default' });
    else if (url === undefined)
      skipped.push({ name, why: `no --endpoint requires exactly ${vector.scope.join(' ')}` });
    else if (vector.signed === undefined && !TIME_INDEPENDENT.has(first)) {
      skipped.push({ name, why: 'raw JSON texts: no recipe to re-sign it for now' });
    } else {
      cases.push({
        name,
        rule: ruleOf(vector.id),
        run: async () => {
          const token = await tokenFor(vector.token, vector.signed, first);
          if (token === undefined)
            return { name, rule: ruleOf(vector.id), expected: outcome(first), got: 'no recipe', ok: false };
          const answers: Answer[] = [];
          for (let i = 0; i < vector.expect.length; i++) answers.push(await send(url, token));
          // Replayed at once, while still valid (boundary vectors expire within seconds).
          if (vector.expect.length === 1 && first === 'ok' && accepted(answers[0]!)) {
            replays.push({ id: vector.id, answer: await send(url, token) });
          }
          return {
            name,
            rule: ruleOf(vector.id),
            expected: vector.expect.map((o) => outcome(o.reason)).join(', '),
            got: answers.map(describe).join(', '),
            ok: answers.every((answer, i) => matches(answer, vector.expect[i]!.reason)),
          };
        },
      });
    }
  }

  for (const sequence of vectorFile.sequences) {
    const name = `sequence ${sequence.id}`;
    const urls = sequence.steps.map((step) => urlFor(step.scope));
    if (sequence.algorithms || urls.some((u) => u === undefined)) {
      skipped.push({ name, why: 'needs an endpoint or algorithm configuration the run does not have' });
      continue;
    }
    cases.push({
      name,
      rule: ruleOf(sequence.id),
      run: async () => {
        const answers: Answer[] = [];
        for (const [i, step] of sequence.steps.entries()) {
          const token = await tokenFor(step.token, step.signed, step.expect.reason);
          answers.push(token === undefined ? { status: 0 } : await send(urls[i]!, token));
        }
        return {
          name,
          rule: ruleOf(sequence.id),
          expected: sequence.steps.map((s) => outcome(s.expect.reason)).join(', '),
          got: answers.map(describe).join(', '),
          ok: answers.every((answer, i) => matches(answer, sequence.steps[i]!.expect.reason)),
        };
      },
    });
  }

  // Every token the target accepted above was presented again right after: all must be replays.
  cases.push({
    name: 'replay',
    rule: 'R1',
    run: async () => {
      const failures = replays.filter((r) => !matches(r.answer, 'replayed_token'));
      return {
        name: 'replay',
        rule: 'R1',
        expected: `${outcome('replayed_token')} for each accepted token presented again`,
        got:
          replays.length === 0
            ? 'no token was accepted (no 2xx to a valid vector), so none could be presented again'
            : failures.length === 0
              ? `${replays.length} refused`
              : `${failures.length} of ${replays.length} not refused (${failures
                  .slice(0, 3)
                  .map((f) => `${f.id}: ${describe(f.answer)}`)
                  .join('; ')})`,
        ok: replays.length > 0 && failures.length === 0,
      };
    },
  });

  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const valid = vectorFile.vectors.find((v) => v.id === 'valid-spaces-create');
  const validUrl = valid && urlFor(valid.scope);
  /** Presents `tokens` at once: exactly one may be authorised, every other one is replayed_token (R1). */
  const atOnce = (name: string, what: string, mint: (now: number, jtis: JtiRenamer) => string[]): Case => ({
    name,
    rule: 'R1',
    run: async () => {
      const tokens = mint(await freshSecond(), new JtiRenamer());
      const answers = await Promise.all(
        tokens.map((token) => send(validUrl!, token).catch((): Answer => ({ status: 0 }))),
      );
      const successes = answers.filter(accepted).length;
      const replays = answers.filter((a) => matches(a, 'replayed_token')).length;
      return {
        name,
        rule: 'R1',
        expected: `exactly 1 of ${tokens.length} ${what} 2xx, the rest ${outcome('replayed_token')}`,
        got: `${successes} x 2xx, ${replays} x replayed_token, ${tokens.length - successes - replays} other`,
        ok: successes === 1 && replays === tokens.length - 1,
      };
    },
  });
  if (valid?.signed && validUrl) {
    const signed = valid.signed;
    cases.push(
      atOnce('concurrency', 'concurrent presentations', (now, jtis) => {
        const token = resign(signed, now, jtis, false)!;
        return Array.from({ length: concurrency }, () => token);
      }),
      // One jti under several exps: a store keyed or locked per (iss, jti, exp) — a primary key per time
      // partition, a check and an insert not made atomic per (iss, jti) — lets more than one through.
      // Shifted by whole seconds, every token stays valid (and signed early in its second).
      atOnce('concurrency across exps', 'tokens sharing one jti under different exps', (now, jtis) =>
        Array.from(
          { length: concurrency },
          (_, i) => resign(signed, now - (i % MAX_EXP_SHIFT), jtis, false)!,
        ),
      ),
    );
  } else {
    for (const name of ['concurrency', 'concurrency across exps'])
      skipped.push({ name, why: 'no --endpoint for spaces:create' });
  }

  const results: CheckResult[] = [];
  const selected = options.only ? cases.filter((c) => options.only!(c.name)) : cases;
  for (const [i, c] of selected.entries()) {
    options.onProgress?.(i, selected.length, c.name);
    try {
      results.push(await c.run());
    } catch (error) {
      results.push({
        name: c.name,
        rule: c.rule,
        expected: 'an HTTP answer',
        got: (error as Error).message,
        ok: false,
      });
    }
  }
  options.onProgress?.(selected.length, selected.length, 'done');
  return makeReport('core', results, skipped);
}
