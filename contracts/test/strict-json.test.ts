import { describe, expect, it } from 'vitest';
import {
  loadVectors,
  MAX_JSON_DEPTH,
  parseSpecRules,
  parseStrictJsonObject,
  strictJsonProblem,
} from '../src/index.js';

const file = loadVectors();
const byId = new Map(file.vectors.map((vector) => [vector.id, vector]));
const J_RULES = parseSpecRules().filter((rule) => /^J\d$/.test(rule.id));

/** A segment's bytes when it is canonical base64url (T4), else undefined. */
function bytesOf(segment: string): Buffer | undefined {
  const bytes = Buffer.from(segment, 'base64url');
  return bytes.toString('base64url') === segment ? bytes : undefined;
}

/** Header and claims of a three-segment token with canonical base64url, as parseStrictJsonObject reads them. */
function readSegments(token: string) {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [header, claims] = [bytesOf(parts[0]!), bytesOf(parts[1]!)];
  if (header === undefined || claims === undefined) return undefined;
  return {
    header: parseStrictJsonObject(header),
    claims: parseStrictJsonObject(claims),
    problem: strictJsonProblem(header) ?? strictJsonProblem(claims),
  };
}

const pinned = J_RULES.flatMap((rule) =>
  rule.vectors.filter((id) => byId.has(id)).map((id) => [rule.id, id, byId.get(id)!] as const),
);

describe('parseStrictJsonObject reads every J-rule vector as a verifier must (SPEC.md J1-J8)', () => {
  it('has the eight J rules and a vector for each', () => {
    expect(J_RULES.map((rule) => rule.id)).toEqual(['J1', 'J2', 'J3', 'J4', 'J5', 'J6', 'J7', 'J8']);
    expect(new Set(pinned.map(([rule]) => rule)).size).toBe(8);
  });

  it.each(pinned)('%s: %s', (rule, _id, vector) => {
    const read = readSegments(vector.token);
    expect(read).toBeDefined();
    const malformed = vector.expect[0]!.reason === 'malformed_token';
    // A malformed J vector breaks its header or its claims, and strictJsonProblem names its rule; any
    // other keeps both readable.
    expect(read!.header === undefined || read!.claims === undefined).toBe(malformed);
    expect(read!.problem?.rule).toBe(malformed ? rule : undefined);
  });

  it('reads the header and claims of every vector a verifier does not refuse as malformed', () => {
    const wellFormed = file.vectors.filter(
      (vector) => !['malformed_token', 'missing_token'].includes(vector.expect[0]!.reason ?? ''),
    );
    expect(wellFormed.length).toBeGreaterThan(40);
    for (const vector of wellFormed) {
      const read = readSegments(vector.token);
      expect(read?.header, vector.id).toBeTypeOf('object');
      expect(read?.claims, vector.id).toBeTypeOf('object');
    }
  });
});

describe('parseStrictJsonObject', () => {
  const parse = (text: string) => parseStrictJsonObject(Buffer.from(text, 'utf8'));

  it.each([
    ['invalid UTF-8', 'J1', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])],
    ['a byte order mark', 'J2', Buffer.from('\uFEFF{"a":1}', 'utf8')],
    ['not JSON', 'J3', Buffer.from('{"a":1,}')],
    ['an array', 'J3', Buffer.from('[1]')],
    ['a string', 'J3', Buffer.from('"a"')],
    ['null', 'J3', Buffer.from('null')],
    ['a number', 'J3', Buffer.from('1')],
    ['a boolean', 'J3', Buffer.from('true')],
    ['NaN', 'J3', Buffer.from('{"a":NaN}')],
    ['a lone surrogate in a value', 'J4', Buffer.from('{"a":"\\ud800"}')],
    ['a lone surrogate in a member name', 'J4', Buffer.from('{"\\udc00":1}')],
    ['a nested duplicate member', 'J5', Buffer.from('{"a":[{"b":1,"b":2}]}')],
    ['a duplicate spelled with an escape', 'J5', Buffer.from('{"a":1,"\\u0061":2}')],
    ['a number overflowing a double', 'J6', Buffer.from('{"a":[1e400]}')],
    [
      'nesting one past MAX_JSON_DEPTH',
      'J8',
      Buffer.from(`{"a":${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}}`),
    ],
  ])('refuses %s (%s), and strictJsonProblem names the rule', (_name, rule, bytes) => {
    expect(parseStrictJsonObject(bytes)).toBeUndefined();
    const problem = strictJsonProblem(bytes);
    expect(problem?.rule).toBe(rule);
    expect(problem?.problem).toMatch(/\w/);
  });

  it('strictJsonProblem answers a frozen problem: one caller cannot change what the next is told', () => {
    const problem = strictJsonProblem(Buffer.from('[]'))!;
    expect(Object.isFrozen(problem)).toBe(true);
    expect(() => {
      (problem as { problem: string }).problem = 'fine';
    }).toThrow(TypeError);
    expect(strictJsonProblem(Buffer.from('[]'))).toEqual({ rule: 'J3', problem: 'JSON, but not an object' });
  });

  it('strictJsonProblem finds nothing in what parseStrictJsonObject reads', () => {
    expect(strictJsonProblem(Buffer.from('{"a":[1,{"b":"\\ud83d\\ude00"}]}'))).toBeUndefined();
  });

  it('accepts a surrogate pair, escaped or raw, nesting at MAX_JSON_DEPTH, and any spelling of the same JSON (J7)', () => {
    expect(parse('{"a":"\\ud83d\\ude00","b":"😀"}')).toEqual({ a: '😀', b: '😀' });
    const deepest = `{"a":${'['.repeat(MAX_JSON_DEPTH - 1)}${']'.repeat(MAX_JSON_DEPTH - 1)}}`;
    expect(parse(deepest)).toBeTypeOf('object');
    expect(parse(' {\n\t"b" : 1e0 ,"\\u0061":[ ]}\r\n')).toEqual({ b: 1, a: [] });
  });

  it('accepts many shallow containers: the bracket count only decides whether the depth walk runs', () => {
    const wide = `{"a":[${Array(MAX_JSON_DEPTH + 10)
      .fill('[]')
      .join(',')}]}`;
    expect(parse(wide)).toBeTypeOf('object');
  });

  it('survives nesting far past the limit without throwing', () => {
    expect(parse(`{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`)).toBeUndefined();
  });
});
