/**
 * Settles with `work`, or rejects with `onTimeout()` after `ms`. The timer is unref'd so a pending
 * deadline never keeps a process alive; a late rejection of `work` is absorbed (never unhandled).
 */
export function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    timer.unref?.();
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
