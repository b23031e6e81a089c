interface Pending {
  readonly at: number;
  readonly reject: (error: Error) => void;
  done: boolean;
}

/**
 * Bounds promises by one fixed timeout with a single timer. Every call has the same timeout, so
 * deadlines arrive in call order and a FIFO suffices: per call this costs one small object instead
 * of a timer (which showed up in profiles of the verify hot path).
 */
export class Deadline {
  readonly #ms: number;
  readonly #error: () => Error;
  #queue: Pending[] = [];
  #head = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(ms: number, error: () => Error) {
    this.#ms = ms;
    this.#error = error;
  }

  /** Settles like `promise`, or rejects once the timeout has passed. */
  bound<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = { at: Date.now() + this.#ms, reject, done: false };
      this.#drop();
      this.#queue.push(pending);
      if (this.#timer === undefined) this.#arm(this.#ms);
      promise.then(
        (value) => {
          pending.done = true;
          resolve(value);
        },
        (error: unknown) => {
          pending.done = true;
          reject(error);
        },
      );
    });
  }

  /** Forgets settled calls at the head, so finished entries die young. */
  #drop(): void {
    const queue = this.#queue;
    while (this.#head < queue.length && queue[this.#head]?.done) this.#head++;
    if (this.#head === queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > queue.length) {
      this.#queue = queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #arm(delay: number): void {
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, delay));
    // A deadline must never keep a process alive on its own.
    this.#timer.unref?.();
  }

  #fire(): void {
    this.#timer = undefined;
    const now = Date.now();
    for (let next = this.#queue[this.#head]; next !== undefined; next = this.#queue[this.#head]) {
      if (!next.done && next.at > now) break;
      if (!next.done) {
        next.done = true;
        next.reject(this.#error());
      }
      this.#head++;
    }
    this.#drop();
    const next = this.#queue[this.#head];
    if (next !== undefined) this.#arm(next.at - now);
  }
}

/** Settles like `promise`, or rejects once `ms` have passed (one-off use; hot paths use Deadline). */
export function bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Deadline(ms, () => new Error(`timed out after ${ms} ms`)).bound(promise);
}
