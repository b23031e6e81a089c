import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Reason } from '@hyper/s2s-contracts';
import { conformingToken } from './jws.js';

/** One presentation and how it was answered; times in ms on the performance clock. */
export interface Answer {
  readonly jti: string;
  readonly token: string;
  /** A re-presentation of a token that was already answered 200. */
  readonly replay: boolean;
  readonly reason: Reason;
  readonly startedAt: number;
  readonly ms: number;
}

/**
 * Fresh conforming tokens, signed on demand at the current time. ES256 by default: a P-256 signature
 * costs ~0.07 ms against RS256's ~0.5 ms, so signing does not crowd out the traffic it feeds.
 */
export class TokenMint {
  #next = 0;

  constructor(
    readonly prefix: string,
    readonly kid = 'lite-2026-05',
  ) {}

  get issued(): number {
    return this.#next;
  }

  mint(): { jti: string; token: string } {
    const jti = `${this.prefix}-${this.#next++}`;
    return { jti, token: conformingToken(this.kid, Math.floor(Date.now() / 1000), jti) };
  }
}

export interface TrafficOptions {
  readonly verify: (token: string) => Promise<Reason>;
  readonly mint: TokenMint;
  /** Callers presenting tokens in a closed loop. */
  readonly concurrency: number;
  /** Every n-th presentation re-presents a token that was answered 200 earlier (0: never). */
  readonly replayEvery: number;
  /** Pause of each caller between presentations, so a store that fails fast is not spun against. */
  readonly pauseMs: number;
  readonly signal: AbortSignal;
}

/**
 * Closed-loop verification traffic until `signal` aborts; resolves every answer. Answers are also
 * appended to `answers` as they arrive, for a caller watching the traffic live.
 */
export async function drive(options: TrafficOptions, answers: Answer[] = []): Promise<Answer[]> {
  const accepted: { jti: string; token: string }[] = [];
  let presented = 0;
  const caller = async () => {
    while (!options.signal.aborted) {
      const replay =
        options.replayEvery > 0 && ++presented % options.replayEvery === 0 && accepted.length > 0;
      const next = replay
        ? accepted[accepted.length - 1 - (presented % accepted.length)]!
        : options.mint.mint();
      const startedAt = performance.now();
      const reason = await options.verify(next.token);
      answers.push({ ...next, replay, reason, startedAt, ms: performance.now() - startedAt });
      if (reason === 'ok') accepted.push(next);
      await sleep(options.pauseMs);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, caller));
  return answers;
}

export interface FaultWindow {
  /** performance.now() when the fault was injected and when it was removed. */
  readonly from: number;
  readonly to: number;
}

/** Figures of one traffic run around a fault. */
export function summarize(answers: readonly Answer[], fault: FaultWindow) {
  const unavailable = answers.filter((answer) => answer.reason === 'replay_store_unavailable');
  const firstOkAfter = answers
    .filter((answer) => answer.reason === 'ok' && answer.startedAt >= fault.to)
    .reduce((first, answer) => Math.min(first, answer.startedAt), Number.POSITIVE_INFINITY);
  return {
    requests: answers.length,
    ok: answers.filter((answer) => answer.reason === 'ok').length,
    replayed: answers.filter((answer) => answer.reason === 'replayed_token').length,
    unavailable: unavailable.length,
    duringFault: answers.filter(
      (answer) => answer.startedAt + answer.ms >= fault.from && answer.startedAt <= fault.to,
    ).length,
    maxMs: Math.round(Math.max(0, ...answers.map((answer) => answer.ms))),
    maxUnavailableMs: Math.round(Math.max(0, ...unavailable.map((answer) => answer.ms))),
    recoveredAfterMs: Math.round(firstOkAfter - fault.to),
  };
}
