import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deadline } from '../src/deadline.js';

// Fake timers and a fake performance.now(): each expiry is observed at its exact due time.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const at = (label: string) => `${label}@${performance.now()}`;

describe('Deadline: every tracked entry expires at its own due time', () => {
  it('fires entries in order, each at its due time', async () => {
    const deadline = new Deadline(100);
    const fired: string[] = [];
    deadline.track(() => fired.push(at('A')));
    await vi.advanceTimersByTimeAsync(10);
    deadline.track(() => fired.push(at('B')));
    const cancel = deadline.track(() => fired.push(at('cancelled')));
    cancel();
    await vi.advanceTimersByTimeAsync(1000);
    expect(fired).toEqual(['A@100', 'B@110']);
  });

  // A timed-out replay statement sends the next batch from inside its expiry, tracking new deadlines
  // while the expiry run is under way: no entry due in that run may be skipped, and the new one fires.
  it('an entry tracked from inside an expiry neither skips the next due entry nor is lost', async () => {
    const deadline = new Deadline(100);
    const fired: string[] = [];
    deadline.track(() => {
      fired.push(at('A'));
      deadline.track(() => fired.push(at('C')));
    });
    await vi.advanceTimersByTimeAsync(10);
    deadline.track(() => fired.push(at('B')));
    await vi.advanceTimersByTimeAsync(1000);
    expect(fired).toEqual(['A@100', 'B@110', 'C@200']);
  });

  it('an entry tracked from inside the only expiry still fires, on one timer', async () => {
    const deadline = new Deadline(100);
    const fired: string[] = [];
    deadline.track(() => {
      fired.push(at('A'));
      deadline.track(() => fired.push(at('C')));
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(fired).toEqual(['A@100', 'C@200']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps the timer for later entries when an expiry throws', async () => {
    const deadline = new Deadline(100);
    const fired: string[] = [];
    deadline.track(() => {
      throw new Error('expiry failed');
    });
    await vi.advanceTimersByTimeAsync(10);
    deadline.track(() => fired.push(at('B')));
    await expect(vi.advanceTimersByTimeAsync(100)).rejects.toThrow('expiry failed');
    await vi.advanceTimersByTimeAsync(100);
    expect(fired).toEqual(['B@110']);
  });
});
