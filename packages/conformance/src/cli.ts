import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type IntegerBounds, parseInteger } from '@hyper/s2s-contracts';
import { DEFAULT_CONCURRENCY, runCoreChecks } from './core.js';
import { serveKitJwks } from './jwks-server.js';
import { kitEnvironment, toDotenv } from './kit.js';
import { DEFAULT_TOKEN_COUNT, runLiteChecks } from './lite.js';
import { formatTable, type Report, writeReports } from './report.js';

/** Each command's usage, also printed by `<command> --help`. */
export const COMMAND_USAGE = {
  env: `  hyper-s2s-conformance env [--serve-jwks] [--port N]
      Print (dotenv) what the target Core must be configured with: the kit's public test keys,
      S2S_JWT_AUDIENCE and S2S_ALLOWED_ISSUERS. With --serve-jwks, serve the keys as a JWKS on
      127.0.0.1 (port N, default any) and print S2S_JWKS_URL instead; runs until interrupted.
`,
  core: `  hyper-s2s-conformance core --base-url URL --endpoint PATH=SCOPE [--endpoint PATH=SCOPE ...]
      [--method POST] [--concurrency ${DEFAULT_CONCURRENCY}] [--json FILE] [--junit FILE]
      Re-sign every applicable vector for now, present it to the running Core, check status and
      reason (when exposed), replay every accepted token, and present one token from N concurrent
      connections (exactly one success).
`,
  lite: `  hyper-s2s-conformance lite --jwks-url URL --token-command "CMD" [--count ${DEFAULT_TOKEN_COUNT}] [--json FILE] [--junit FILE]
      Check a signer from outside: JWKS fetch and key policy, strict token decoding, header, kid
      convention, signature, claims, TTL <= 300, jti uniqueness over N tokens printed by CMD.
`,
} as const;

const EXIT_STATUS = 'Exit status: 0 only when every check passes; 1 when one fails; 2 for a usage error.\n';

export const USAGE = `hyper-s2s-conformance: black-box conformance checks for S2S JWT auth

Usage:
${COMMAND_USAGE.env}${COMMAND_USAGE.core}${COMMAND_USAGE.lite}
  hyper-s2s-conformance --version

${EXIT_STATUS}`;

/** This package's version, read from its package.json (dist/cli.js → ../package.json). */
function packageVersion(): string {
  const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
  return String((JSON.parse(text) as { version?: unknown }).version);
}

/** `<command> --help` / `-h`: that command's usage on stdout. */
function commandHelp(command: keyof typeof COMMAND_USAGE, io: Io): number {
  io.out(`Usage:\n${COMMAND_USAGE[command]}\n${EXIT_STATUS}`);
  return 0;
}

const HELP = { help: { type: 'boolean', short: 'h' } } as const;

/** Where `main` writes: standard output and error by default, a recorder in tests. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether err is a terminal (a live progress line) or not (no progress). */
  readonly errIsTty: boolean;
}

const processIo: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  errIsTty: process.stderr.isTTY === true,
};

class UsageError extends Error {}

/** --concurrency and --count: enough for any real run, too few to flood the target. */
const COUNT_BOUNDS: IntegerBounds = { min: 1, max: 1000 };
const PORT_BOUNDS: IntegerBounds = { min: 0, max: 65535 };

/**
 * An integer option, read with the contracts' parseInteger (the SDKs' one integer reader, so the same
 * words): only digits, so `1e3`, `0x10`, ` 5` or an empty value is a usage error, never 1000, 16 or 0.
 */
function integerOption(
  value: string | undefined,
  name: string,
  bounds: IntegerBounds,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const parsed = parseInteger(value, bounds);
  if (!parsed.ok) throw new UsageError(`${name} ${parsed.problem}`);
  return parsed.value;
}

function endpoints(values: string[] | undefined): Map<string, string> {
  const map = new Map<string, string>();
  for (const value of values ?? []) {
    const at = value.lastIndexOf('=');
    if (at <= 0 || at === value.length - 1 || !value.startsWith('/')) {
      throw new UsageError(`--endpoint ${value}: expected /path=scope`);
    }
    map.set(value.slice(at + 1), value.slice(0, at));
  }
  if (map.size === 0) throw new UsageError('core needs at least one --endpoint PATH=SCOPE');
  return map;
}

function progress(io: Io) {
  return (done: number, total: number, name: string) => {
    if (!io.errIsTty) return;
    io.err(`\r\x1b[2K[${String(done).padStart(String(total).length)}/${total}] ${name.slice(0, 60)}`);
    if (done === total) io.err('\r\x1b[2K');
  };
}

function finish(
  report: Report,
  values: { json?: string | undefined; junit?: string | undefined },
  io: Io,
): number {
  io.out(formatTable(report));
  writeReports(report, values);
  return report.ok ? 0 : 1;
}

/** Runs the CLI; resolves with the exit status. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      io.out(USAGE);
      return command === undefined ? 2 : 0;
    }
    if (command === '--version' || command === '-v') {
      io.out(`@hyper/s2s-conformance ${packageVersion()}\n`);
      return 0;
    }
    if (command === 'env') {
      const { values } = parseArgs({
        args: rest,
        options: { 'serve-jwks': { type: 'boolean' }, port: { type: 'string' }, ...HELP },
      });
      if (values.help) return commandHelp('env', io);
      if (!values['serve-jwks']) {
        io.out(toDotenv(kitEnvironment()));
        return 0;
      }
      const server = await serveKitJwks(integerOption(values.port, '--port', PORT_BOUNDS, 0));
      io.out(toDotenv(kitEnvironment(server.url)));
      io.err(`serving the kit JWKS at ${server.url}; Ctrl-C to stop\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
      return 0;
    }
    if (command === 'core') {
      const { values } = parseArgs({
        args: rest,
        options: {
          'base-url': { type: 'string' },
          endpoint: { type: 'string', multiple: true },
          method: { type: 'string' },
          concurrency: { type: 'string' },
          json: { type: 'string' },
          junit: { type: 'string' },
          ...HELP,
        },
      });
      if (values.help) return commandHelp('core', io);
      if (!values['base-url']) throw new UsageError('core needs --base-url URL');
      let baseUrl: URL;
      try {
        baseUrl = new URL(values['base-url']);
      } catch {
        throw new UsageError(`--base-url ${values['base-url']} is not a URL`);
      }
      const report = await runCoreChecks({
        baseUrl: baseUrl.href,
        endpoints: endpoints(values.endpoint),
        concurrency: integerOption(values.concurrency, '--concurrency', COUNT_BOUNDS, DEFAULT_CONCURRENCY),
        method: values.method ?? 'POST',
        onProgress: progress(io),
      });
      return finish(report, values, io);
    }
    if (command === 'lite') {
      const { values } = parseArgs({
        args: rest,
        options: {
          'jwks-url': { type: 'string' },
          'token-command': { type: 'string' },
          count: { type: 'string' },
          json: { type: 'string' },
          junit: { type: 'string' },
          ...HELP,
        },
      });
      if (values.help) return commandHelp('lite', io);
      if (!values['jwks-url'] || !values['token-command']) {
        throw new UsageError('lite needs --jwks-url URL and --token-command "CMD"');
      }
      const report = await runLiteChecks({
        jwksUrl: values['jwks-url'],
        tokenCommand: values['token-command'],
        count: integerOption(values.count, '--count', COUNT_BOUNDS, DEFAULT_TOKEN_COUNT),
        onProgress: progress(io),
      });
      return finish(report, values, io);
    }
    throw new UsageError(`unknown command ${command}`);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }
}
