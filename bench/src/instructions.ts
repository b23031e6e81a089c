/**
 * Instructions per verified token, counted by valgrind's callgrind: a figure the machine's other load
 * cannot move, where wall-clock ratios of the same code swing by tens of per cent between runs on
 * 2 shared cores. Each candidate runs in its own process twice, verifying `small` then `large` tokens;
 * the difference over `large - small` is its work per token, start-up and imports excluded. Counted per
 * thread: with many tokens in flight the event-loop thread (thread 1) bounds throughput, while the RSA
 * work of WebCrypto runs on libuv's pool and V8 collects garbage and compiles on helper threads.
 * What remains unsteady is when V8 collects and compiles: up to 13 % between runs here.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFixture, mintTokens } from './fixtures.js';

export const INSTRUCTION_CANDIDATES = {
  jose: 'jose jwtVerify',
  verifier: '@hyper/s2s-verifier (full policy, memory replay store)',
} as const;
export type InstructionCandidate = keyof typeof INSTRUCTION_CANDIDATES;

/** What `instructions-child.ts` reads. */
export interface InstructionTokens {
  readonly tokens: string[];
  readonly jwks: unknown;
  readonly publicKeyPem: string;
  /** Epoch ms read just after minting: every candidate verifies on this clock (nothing expires mid-run). */
  readonly mintedAt: number;
}

export interface InstructionCount {
  readonly candidate: InstructionCandidate;
  readonly name: string;
  /** Instructions per token on the event-loop thread. */
  readonly eventLoop: number;
  /** Instructions per token on every thread of the process. */
  readonly process: number;
  /**
   * Instructions per token on the event-loop thread with V8 on one thread (`--single-threaded`): its
   * collector and compiler then run there, so this count includes the candidate's garbage collection.
   * Steadier than `eventLoop`, though when the RSA work completes on the pool still moves it by a few %.
   */
  readonly singleThread: number;
}

export type InstructionsResult =
  | {
      readonly counts: InstructionCount[];
      readonly small: number;
      readonly large: number;
      readonly inFlight: number;
      readonly valgrind: string;
    }
  | { readonly skipped: string };

/** Runs still going: a failed run stops its partner rather than leave it counting for minutes. */
const running = new Set<ChildProcess>();
const stopAll = (error: unknown): never => {
  for (const child of running) child.kill();
  throw error;
};

const CHILD = fileURLToPath(new URL('./instructions-child.ts', import.meta.url));
const TOTALS = /^(?:summary|totals):\s+(\d+)/m;

interface ThreadTotals {
  readonly eventLoop: number;
  readonly process: number;
}

/** One callgrind run of `count` tokens; its instructions on thread 1 and on every thread. */
function countRun(
  dir: string,
  candidate: InstructionCandidate,
  count: number,
  inFlight: number,
  tokensFile: string,
  v8Flags: readonly string[] = [],
): Promise<ThreadTotals> {
  const prefix = `${candidate}.${count}${v8Flags.length > 0 ? '.single' : ''}`;
  const args = [
    // Quiet: valgrind's stderr then holds only errors, so the child's own error reaches the message.
    '-q',
    '--tool=callgrind',
    '--separate-threads=yes',
    // V8 writes and rewrites machine code on the heap: without this, valgrind runs stale translations.
    '--smc-check=all-non-file',
    `--callgrind-out-file=${join(dir, prefix)}`,
    process.execPath,
    ...v8Flags,
    '--import',
    'tsx',
    CHILD,
    candidate,
    String(count),
    String(inFlight),
    tokensFile,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('valgrind', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    running.add(child);
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      running.delete(child);
      if (code !== 0) {
        reject(
          new Error(
            `callgrind run of ${prefix} exited with ${code}: ${stderr.trim().slice(-1500).split('\n').join(' | ')}`,
          ),
        );
        return;
      }
      let eventLoop: number | undefined;
      let all = 0;
      for (const name of readdirSync(dir)) {
        if (!name.startsWith(`${prefix}-`)) continue;
        const match = TOTALS.exec(readFileSync(join(dir, name), 'utf8'));
        if (!match) continue;
        const instructions = Number(match[1]);
        all += instructions;
        if (name === `${prefix}-01`) eventLoop = instructions;
      }
      if (eventLoop === undefined) reject(new Error(`callgrind wrote no count for thread 1 of ${prefix}`));
      else resolve({ eventLoop, process: all });
    });
  });
}

/**
 * Counts every candidate, one after another; a candidate's two runs go side by side (one per core).
 * Skips, saying why, where valgrind is not installed.
 */
export async function instructionsSuite(
  small = 2_000,
  large = 10_000,
  inFlight = 64,
): Promise<InstructionsResult> {
  const version = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) {
    return { skipped: 'valgrind is not installed (Debian: apt-get install valgrind)' };
  }
  const dir = mkdtempSync(join(tmpdir(), 's2s-instructions-'));
  try {
    const fixture = createFixture();
    const tokens = await mintTokens(fixture, large);
    // Read after minting: no token's iat or nbf lies ahead of this clock, and none expires before it
    // unless minting took longer than the 300 s TTL and the 60 s skew.
    const file: InstructionTokens = {
      tokens,
      jwks: await fixture.signer.jwks(),
      publicKeyPem: fixture.publicKeyPem,
      mintedAt: Date.now(),
    };
    const tokensFile = join(dir, 'tokens.json');
    writeFileSync(tokensFile, JSON.stringify(file));
    const counts: InstructionCount[] = [];
    /** Instructions per token: the difference of a `small` and a `large` run, side by side (one per core). */
    const perToken = async (candidate: InstructionCandidate, v8Flags: readonly string[] = []) => {
      // Settled, not all: the directory is removed only once both runs have exited.
      const runs = await Promise.allSettled([
        countRun(dir, candidate, small, inFlight, tokensFile, v8Flags).catch(stopAll),
        countRun(dir, candidate, large, inFlight, tokensFile, v8Flags).catch(stopAll),
      ]);
      const failed = runs.find((run) => run.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      const [few, many] = runs.map((run) => (run as PromiseFulfilledResult<ThreadTotals>).value) as [
        ThreadTotals,
        ThreadTotals,
      ];
      return {
        eventLoop: (many.eventLoop - few.eventLoop) / (large - small),
        process: (many.process - few.process) / (large - small),
      };
    };
    for (const candidate of Object.keys(INSTRUCTION_CANDIDATES) as InstructionCandidate[]) {
      const threads = await perToken(candidate);
      const single = await perToken(candidate, ['--single-threaded']);
      counts.push({
        candidate,
        name: INSTRUCTION_CANDIDATES[candidate],
        ...threads,
        singleThread: single.eventLoop,
      });
    }
    return { counts, small, large, inFlight, valgrind: version.stdout.trim() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
