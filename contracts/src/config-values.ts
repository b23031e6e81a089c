/**
 * One validator for the integer options and environment variables of both SDKs, so a setting is read
 * the same way by the signer and the verifier. Each check returns a result; the SDK turns a failure
 * into its own typed config error (`SignerConfigError`, `VerifierConfigError`) naming the field.
 */

/** A checked configuration value, or what is wrong with it. `problem` follows the field name
 * ("<field>: must be ...") and never quotes the value, which may be a secret. */
export type ConfigValue<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly problem: string };

/** Inclusive bounds of an integer setting. */
export interface IntegerBounds {
  readonly min: number;
  readonly max: number;
}

/** Environment variables as `process.env` holds them. */
export type EnvSource = Readonly<Record<string, string | undefined>>;

function boundsText({ min, max }: IntegerBounds): string {
  return max >= Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
}

/** A safe integer within `bounds` (counts, milliseconds, seconds). */
export function checkInteger(value: unknown, bounds: IntegerBounds): ConfigValue<number> {
  if (
    typeof value === 'number' &&
    Number.isSafeInteger(value) &&
    value >= bounds.min &&
    value <= bounds.max
  ) {
    return { ok: true, value };
  }
  return { ok: false, problem: `must be an integer ${boundsText(bounds)}` };
}

/**
 * An environment value holding a decimal integer within `bounds`. Only digits are accepted: `2s`, `1e3`,
 * `0x10`, `-1` and `1.5` are refused rather than read as something the operator did not mean.
 */
export function parseInteger(text: string, bounds: IntegerBounds): ConfigValue<number> {
  if (!/^\d+$/.test(text))
    return { ok: false, problem: `must be an integer ${boundsText(bounds)}, in decimal digits` };
  return checkInteger(Number(text), bounds);
}

/**
 * Reads one environment variable, trimmed. The rule for a blank value is the same in both SDKs:
 * unset is `undefined` (the default applies), but set-and-blank (empty or only whitespace) is an error,
 * whose text tells a `required` variable (no default to fall back to) from an optional one.
 * A blank value is nearly always a template or secret mount that did not fill in; defaulting it
 * silently would hide which key source or setting is in effect, and the forbidden variables are
 * already refused when merely present.
 */
export function readEnv(
  env: EnvSource,
  name: string,
  options: { readonly required?: boolean } = {},
): ConfigValue<string | undefined> {
  const value = env[name];
  if (value === undefined) return { ok: true, value: undefined };
  const trimmed = value.trim();
  if (trimmed === '') {
    return {
      ok: false,
      problem: options.required
        ? 'is set but empty: it is required'
        : 'is set but empty: give it a value, or unset it',
    };
  }
  return { ok: true, value: trimmed };
}

/**
 * The variables of `env` in an SDK's namespace (`prefixes`) that it does not read: a misspelt one
 * (HYPER_S2S_JWT_TTL, S2S_JWKS_CACHE_MAX_AGE) would otherwise be ignored and its default used silently.
 * `ignore` exempts a family read by pattern (the scope variables).
 */
export function unknownEnvNames(
  env: EnvSource,
  prefixes: readonly string[],
  known: ReadonlySet<string>,
  ignore: (name: string) => boolean = () => false,
): string[] {
  return Object.keys(env)
    .filter(
      (name) =>
        env[name] !== undefined &&
        prefixes.some((prefix) => name.startsWith(prefix)) &&
        !known.has(name) &&
        !ignore(name),
    )
    .sort();
}

/** A configuration error naming its setting: both SDKs' config errors have this shape. */
export interface FieldError extends Error {
  readonly field: string;
}

/**
 * Collects the problems of every setting before refusing, so one startup error names them all
 * (`A: is required; also B: must be …`) rather than one restart per setting. `field` of the combined
 * error is the first setting at fault; a single problem is thrown as it was made.
 */
export class ConfigProblems<E extends FieldError> {
  readonly #problems: E[] = [];
  readonly #isProblem: (error: unknown) => error is E;
  readonly #make: (field: string, problem: string) => E;

  /** `isProblem` recognises the SDK's config error (others propagate at once); `make` builds one. */
  constructor(isProblem: (error: unknown) => error is E, make: (field: string, problem: string) => E) {
    this.#isProblem = isProblem;
    this.#make = make;
  }

  add(problem: E): void {
    this.#problems.push(problem);
  }

  /** The reader's value, or undefined when it threw a config error (kept for `throwIfAny`). */
  read<T>(reader: () => T): T | undefined {
    try {
      return reader();
    } catch (error) {
      if (!this.#isProblem(error)) throw error;
      this.#problems.push(error);
      return undefined;
    }
  }

  throwIfAny(): void {
    const [first, ...more] = this.#problems;
    if (first === undefined) return;
    if (more.length === 0) throw first;
    const detail = first.message.startsWith(`${first.field}: `)
      ? first.message.slice(first.field.length + 2)
      : first.message;
    throw this.#make(first.field, [detail, ...more.map((problem) => problem.message)].join('; also '));
  }
}
