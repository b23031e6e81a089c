/**
 * `npx tsx src/perf-profile.ts [--in-flight 64] [--rounds 10] [--tokens 4000] [--top 25]`: where the
 * verifier's CPU per token goes beyond bare jose jwtVerify's, by Linux `perf` (Debian: linux-perf).
 * Each candidate runs in its own process under `perf record`, sampling every thread (the event loop,
 * libuv's pool doing the RSA work, V8's helpers) and the kernel's work on their behalf; the child
 * enables recording only for its measured rounds. Unlike the inspector's profile
 * (`profile-verify.ts`), this sees V8's builtins (promises, microtasks, map lookups), the garbage
 * collector and the kernel's scheduling, which is where most of the difference was found
 * (2026-12-03). Sampled: repeat a run before reading a difference under ~0.5 µs. Not part of
 * `npx -y pnpm@10 bench`; it writes nothing to the repository.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createFixture, mintTokens } from './fixtures.js';
import { INSTRUCTION_CANDIDATES, type InstructionCandidate, type InstructionTokens } from './instructions.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    'in-flight': { type: 'string', default: '64' },
    rounds: { type: 'string', default: '10' },
    tokens: { type: 'string', default: '4000' },
    top: { type: 'string', default: '25' },
  },
});
const inFlight = Number(values['in-flight']);
const rounds = Number(values.rounds);
const tokenCount = Number(values.tokens);
const top = Number(values.top);
for (const [name, value] of Object.entries({ 'in-flight': inFlight, rounds, tokens: tokenCount, top })) {
  if (!Number.isInteger(value) || value < 1) {
    console.error(`perf-profile: --${name} must be a positive integer`);
    process.exit(2);
  }
}
// Samples per second and thread: high enough for ~0.1 µs per token over the default 40,000 tokens.
const FREQUENCY = 4999;
const CHILD = fileURLToPath(new URL('./perf-profile-child.ts', import.meta.url));

if (spawnSync('perf', ['--version']).status !== 0) {
  console.error('perf-profile: `perf` is not installed (Debian: apt-get install linux-perf)');
  process.exit(1);
}

/** Longest a perf run may take: a hung child must not keep the tool waiting for ever. */
const RUN_TIMEOUT_MS = 30 * 60 * 1000;

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: RUN_TIMEOUT_MS });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(stdout);
      else if (signal !== null) {
        reject(
          new Error(`${command} ${args[0]} ended by ${signal} (timeout ${RUN_TIMEOUT_MS / 60_000} min)`),
        );
      } else reject(new Error(`${command} ${args[0]} exited with ${code}: ${stderr.trim().slice(-1500)}`));
    });
  });
}

/** Node's JIT symbol maps for perf (/tmp/perf-<pid>.map), removed whether a run succeeded or not. */
const symbolMaps = new Set<string>();
function removeSymbolMaps(candidate: InstructionCandidate): void {
  const pidFile = join(dir, `${candidate}.pid`);
  const pid = existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim() : '';
  if (/^\d+$/.test(pid)) symbolMaps.add(`/tmp/perf-${pid}.map`);
  for (const map of symbolMaps) rmSync(map, { force: true });
}

/** Samples per symbol, every thread of the process together. */
async function profile(candidate: InstructionCandidate, tokensFile: string) {
  const ctl = join(dir, `${candidate}.ctl`);
  const ack = join(dir, `${candidate}.ack`);
  for (const fifo of [ctl, ack]) {
    if (spawnSync('mkfifo', [fifo]).status !== 0) throw new Error(`mkfifo ${fifo} failed`);
  }
  const data = join(dir, `${candidate}.data`);
  let report: string;
  try {
    await run('perf', [
      'record',
      '-q',
      // A fixed period per sample (cpu-clock, strict frequency): samples times the period is CPU time on
      // any host, with or without hardware counters. -N: no copy of the node binary into ~/.debug.
      '-e',
      'cpu-clock',
      '--strict-freq',
      '-N',
      '-F',
      String(FREQUENCY),
      '-D',
      '-1',
      '--control',
      `fifo:${ctl},${ack}`,
      '-o',
      data,
      '--',
      process.execPath,
      '--perf-basic-prof',
      // --perf-basic-prof also writes a V8 log: into the temporary directory, not the working one.
      '--no-logfile-per-isolate',
      `--logfile=${join(dir, `${candidate}.v8.log`)}`,
      '--import',
      'tsx',
      CHILD,
      candidate,
      String(inFlight),
      String(rounds),
      tokensFile,
      ctl,
      ack,
      join(dir, `${candidate}.pid`),
    ]);
    // perf report reads the JIT symbol map: removed only after it, and on any failure.
    report = await run('perf', [
      'report',
      '-i',
      data,
      '--no-children',
      '-g',
      'none',
      '--sort',
      'sym',
      '--stdio',
      '-n',
    ]);
  } finally {
    removeSymbolMaps(candidate);
  }
  const samples = new Map<string, number>();
  for (const line of report.split('\n')) {
    const match = /^\s*[\d.]+%\s+(\d+)\s+\[(.)\]\s+(.*?)\s*$/.exec(line);
    if (!match) continue;
    // JIT code moves between runs: its address is not part of its name.
    const symbol = `${match[2] === 'k' ? '[kernel] ' : ''}${match[3]!.replace(/0x[0-9a-f]+/g, '')}`;
    samples.set(symbol, (samples.get(symbol) ?? 0) + Number(match[1]));
  }
  return samples;
}

/** What a symbol is, for the summary table. */
function categoryOf(symbol: string): string {
  if (symbol.startsWith('[kernel] ')) return 'kernel (scheduling, system calls, interrupts)';
  if (/^(JS|RegExp):/.test(symbol)) {
    if (symbol.includes('/packages/verifier/')) return 'JavaScript: @hyper/s2s-verifier';
    if (symbol.includes('/jose/')) return 'JavaScript: jose';
    if (symbol.includes('node:')) return "JavaScript: Node's WebCrypto and buffers";
    return 'JavaScript: other (bench loop, regular expressions)';
  }
  // Before the compiler test: JSON.parse's parser is not a compiler.
  if (/JsonParse/.test(symbol)) return 'V8: other builtins (maps, strings, JSON, property access)';
  if (/Promise|Microtask|Generator|Await|AsyncFunction/.test(symbol))
    return 'V8: promises, await, microtasks';
  if (/compiler::|Turbofan|Maglev|Parser|Scanner/.test(symbol)) return 'V8: compilers';
  if (/Scaveng|MarkCompact|Marking|Sweep|::Heap::|GCTracer/.test(symbol)) return 'V8: garbage collection';
  if (/^Builtins?_/.test(symbol)) return 'V8: other builtins (maps, strings, JSON, property access)';
  if (/^(ossl_|OPENSSL_|CRYPTO_|ERR_|EVP_|BN_|bn_|RSA_|rsa_|SHA256|sha256)|mulx?4x|sqrx?8x/.test(symbol)) {
    return 'OpenSSL (RSA, SHA-256)';
  }
  return 'other native (Node, V8 runtime, libc)';
}

const dir = mkdtempSync(join(tmpdir(), 's2s-perf-'));
// The directory holds valid tokens: removed on Ctrl-C too, not only when the run ends.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const map of symbolMaps) rmSync(map, { force: true });
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  });
}
try {
  const fixture = createFixture();
  const file: InstructionTokens = {
    tokens: await mintTokens(fixture, tokenCount),
    jwks: await fixture.signer.jwks(),
    publicKeyPem: fixture.publicKeyPem,
    mintedAt: Date.now(),
  };
  const tokensFile = join(dir, 'tokens.json');
  writeFileSync(tokensFile, JSON.stringify(file));
  const jose = await profile('jose', tokensFile);
  const verifier = await profile('verifier', tokensFile);
  const perToken = (n: number) => (n / FREQUENCY) * (1e6 / (rounds * tokenCount));
  const byCategory = new Map<string, [number, number]>();
  for (const [samples, side] of [
    [jose, 0],
    [verifier, 1],
  ] as const) {
    for (const [symbol, n] of samples) {
      const category = categoryOf(symbol);
      const pair = byCategory.get(category) ?? [0, 0];
      pair[side] += perToken(n);
      byCategory.set(category, pair);
    }
  }
  const fmt = (n: number) => n.toFixed(2).padStart(8);
  console.log(
    `CPU µs per token, every thread, ${inFlight} in flight, ${rounds} rounds of ${tokenCount} tokens, ${FREQUENCY} samples/s`,
  );
  console.log(`${'jose'.padStart(8)} ${'verifier'.padStart(8)} ${'diff'.padStart(8)}  category`);
  let total: [number, number] = [0, 0];
  for (const [category, [a, b]] of [...byCategory].sort((x, y) => y[1][1] - y[1][0] - (x[1][1] - x[1][0]))) {
    console.log(`${fmt(a)} ${fmt(b)} ${fmt(b - a)}  ${category}`);
    total = [total[0] + a, total[1] + b];
  }
  console.log(`${fmt(total[0])} ${fmt(total[1])} ${fmt(total[1] - total[0])}  total`);
  console.log(`\nlargest differences by symbol (${INSTRUCTION_CANDIDATES.verifier} minus jose):`);
  const symbols = new Set([...jose.keys(), ...verifier.keys()]);
  const rows = [...symbols].map((symbol) => {
    const a = perToken(jose.get(symbol) ?? 0);
    const b = perToken(verifier.get(symbol) ?? 0);
    return { symbol, a, b, diff: b - a };
  });
  for (const row of rows.sort((x, y) => Math.abs(y.diff) - Math.abs(x.diff)).slice(0, top)) {
    console.log(`${fmt(row.a)} ${fmt(row.b)} ${fmt(row.diff)}  ${row.symbol.slice(0, 120)}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
