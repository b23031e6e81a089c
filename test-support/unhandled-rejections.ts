/**
 * Unhandled rejections raised while `body` runs and for a few event-loop turns after it (a rejection is
 * reported a turn after the promise settles). An unhandled rejection ends a Node process by default, so
 * tests of asynchronous paths (HTTP handlers, background logging) assert this list is empty.
 */
export async function unhandledRejectionsDuring(body: () => Promise<void>): Promise<unknown[]> {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    await body();
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  return unhandled;
}
