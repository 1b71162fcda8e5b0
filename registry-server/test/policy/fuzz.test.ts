// Randomly mutated documents: validation never throws, every failure has errors whose paths
// point into the input, and every success has canonical text that is a fixed point.

import test from 'ava';
import { canonicalPolicy, type PolicyContext, type PolicyError } from '../../src/policy/index.ts';
import { utf8Length } from '../../src/policy/limits.ts';
import { validDocuments, validate } from './fixtures.ts';

/** mulberry32: a small seeded generator, so a failure names a reproducible seed. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Segment = string | number;

const interestingStrings = [
  '', '*', '?', 'Allow', 'Deny', 'ecr:*', 'ecr:Get*', 'ECR:x', 'arn:', 'arn:berth:ecr:r:1:repository/*', 'arn:a:b:c',
  '123456789012', '1234', 'true', 'false', 'True', '10.0.0.0/8', '::1', '300.1.1.1', '2024-01-01', '2024-02-30', '-1', '1.50',
  'aws:SourceIp', 'aws:Tag/', 'StringEquals', 'ForAnyValue:StringLike', 'NullIfExists', 'Version', 'Statement', '2012-10-17',
  '__proto__', 'constructor', 'x'.repeat(3000), 'é', '🚢', '\u0000', '\uD800', 'a b', '"', '\\', 'Principal', 'AWS', 'Service',
];
const interestingKeys = [
  'Version', 'Id', 'Statement', 'Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource',
  'Condition', 'AWS', 'Service', 'Federated', 'CanonicalUser', 'StringEquals', 'Bool', 'IpAddress', 'NumericLessThan', 'DateLessThan',
  'ArnLike', 'Null', 'ForAllValues:StringLike', 'aws:SourceIp', 'aws:username', 'ecr:ResourceTag/team', 'bogus', '__proto__', '',
];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

function randomValue(rand: () => number, depth = 0): Json {
  const r = rand();
  if (r < 0.1) return null;
  if (r < 0.18) return rand() < 0.5;
  if (r < 0.3) return pick(rand, [0, -1, 1.5, 1e21, 1e-7, 2 ** 53 + 1, 1735689600, 12]);
  if (r < 0.7 || depth > 2) return pick(rand, interestingStrings);
  if (r < 0.85) return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
  const obj: { [key: string]: Json } = {};
  for (let i = Math.floor(rand() * 3); i > 0; i--) obj[pick(rand, interestingKeys)] = randomValue(rand, depth + 1);
  return obj;
}

/** Every path to a node of the tree, the root included. */
function nodePaths(value: Json, path: Segment[] = [], out: Segment[][] = []): Segment[][] {
  out.push(path);
  if (Array.isArray(value)) value.forEach((v, i) => nodePaths(v, [...path, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) nodePaths(v, [...path, k], out);
  return out;
}

function get(root: Json, path: readonly Segment[]): Json | undefined {
  let node: Json | undefined = root;
  for (const seg of path) {
    if (node === null || typeof node !== 'object') return undefined;
    if (Array.isArray(node)) node = typeof seg === 'number' ? node[seg] : undefined;
    else node = typeof seg === 'string' && Object.hasOwn(node, seg) ? node[seg] : undefined;
  }
  return node;
}

function mutateString(rand: () => number, s: string): string {
  const at = Math.floor(rand() * (s.length + 1));
  switch (Math.floor(rand() * 4)) {
    case 0:
      return s.slice(0, at) + pick(rand, [':', '*', '?', '/', ' ', '-', '.', 'A', '0', '\n', 'é', '"']) + s.slice(at);
    case 1:
      return s.slice(0, at) + s.slice(at + 1);
    case 2:
      return s.toUpperCase();
    default:
      return s + s;
  }
}

/** Applies one random edit in place (on a fresh clone) and returns the new root. */
function mutate(rand: () => number, root: Json): Json {
  const paths = nodePaths(root);
  const path = pick(rand, paths);
  const node = get(root, path);
  const parentPath = path.slice(0, -1);
  const parent = get(root, parentPath);
  const last = path[path.length - 1];
  const replace = (value: Json): Json => {
    if (path.length === 0) return value;
    if (Array.isArray(parent) && typeof last === 'number') parent[last] = value;
    else if (parent !== null && typeof parent === 'object' && !Array.isArray(parent) && typeof last === 'string') parent[last] = value;
    return root;
  };
  const op = Math.floor(rand() * 9);
  switch (op) {
    case 0:
      return replace(randomValue(rand));
    case 1: // delete
      if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
      else if (parent !== null && typeof parent === 'object' && !Array.isArray(parent) && typeof last === 'string') delete parent[last];
      return root;
    case 2: // rename a key
      if (parent !== null && typeof parent === 'object' && !Array.isArray(parent) && typeof last === 'string' && node !== undefined) {
        delete parent[last];
        parent[rand() < 0.5 ? mutateString(rand, last) : pick(rand, interestingKeys)] = node;
      }
      return root;
    case 3: // add a key
      if (node !== null && typeof node === 'object' && !Array.isArray(node)) node[pick(rand, interestingKeys)] = randomValue(rand);
      return root;
    case 4: // wrap in an array
      return node === undefined ? root : replace([node]);
    case 5: // unwrap or duplicate an array element
      if (Array.isArray(node) && node.length > 0) return rand() < 0.5 ? replace(node[0] as Json) : (node.push(structuredClone(node[0] as Json)), root);
      return root;
    case 6:
    case 7:
      return typeof node === 'string' ? replace(mutateString(rand, node)) : root;
    default: // swap for a sibling's value
      return node === undefined ? root : replace(structuredClone(pick(rand, paths.map((p) => get(root, p)).filter((v): v is Json => v !== undefined))));
  }
}

/** Reads a path written by the validator back into segments; null if it does not parse. */
function parsePath(path: string): Segment[] | null {
  const segments: Segment[] = [];
  const token = /^(?:\.?([A-Za-z_$][A-Za-z0-9_$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\])/;
  let rest = path;
  let first = true;
  while (rest !== '') {
    const m = token.exec(rest);
    if (m === null || (first && rest.startsWith('.')) || (!first && m[1] !== undefined && !rest.startsWith('.'))) return null;
    if (m[1] !== undefined) segments.push(m[1]);
    else if (m[2] !== undefined) segments.push(Number(m[2]));
    else segments.push(JSON.parse(m[3] ?? '""') as string);
    rest = rest.slice(m[0].length);
    first = false;
  }
  return segments;
}

function checkErrors(errors: readonly PolicyError[], parsedInput: Json | undefined): string | null {
  if (errors.length === 0) return 'failed without errors';
  for (const e of errors) {
    if (typeof e.path !== 'string' || typeof e.message !== 'string' || e.message === '') return `malformed error ${JSON.stringify(e)}`;
    const segments = parsePath(e.path);
    if (segments === null) return `unparseable path ${e.path}`;
    if (parsedInput === undefined) {
      if (e.path !== '') return `input is not JSON, yet error at ${e.path}`;
      continue;
    }
    // The path names a node of the input, or a missing field of one.
    if (get(parsedInput, segments) === undefined && get(parsedInput, segments.slice(0, -1)) === undefined) return `path ${e.path} is not in the input`;
  }
  return null;
}

test('thousands of mutated documents: no exception, errors with real paths, canonical fixed points', (t) => {
  const iterations = 4000;
  let valid = 0;
  let invalid = 0;
  for (let seed = 1; seed <= iterations; seed++) {
    const rand = generator(seed);
    const seedDoc = pick(rand, validDocuments);
    const context: PolicyContext = rand() < 0.85 ? seedDoc.context : seedDoc.context === 'resource' ? 'identity' : 'resource';
    let doc = structuredClone(seedDoc.doc) as Json;
    for (let edits = 1 + Math.floor(rand() * 4); edits > 0; edits--) doc = mutate(rand, doc);

    let input: unknown = doc;
    let parsedInput: Json | undefined = doc;
    const form = rand();
    if (form < 0.4) {
      input = JSON.stringify(doc, null, Math.floor(rand() * 3));
    } else if (form < 0.5) {
      // Damage the text itself: truncate, or splice in a stray character.
      const text = JSON.stringify(doc);
      const at = Math.floor(rand() * text.length);
      input = rand() < 0.5 ? text.slice(0, at) : text.slice(0, at) + pick(rand, ['{', '}', ',', '"', ':', ']', '\\', 'x']) + text.slice(at);
      try {
        parsedInput = JSON.parse(input as string) as Json;
      } catch {
        parsedInput = undefined;
      }
    }

    let result;
    try {
      result = validate(input, context);
    } catch (err) {
      t.fail(`seed ${seed} threw ${String(err)} on ${JSON.stringify(input).slice(0, 500)}`);
      return;
    }
    if (input === doc && typeof doc !== 'string') {
      // A value and its JSON text are the same input (a string is always read as JSON text).
      const asText = validate(JSON.stringify(doc), context);
      if (JSON.stringify(asText) !== JSON.stringify(result)) {
        t.fail(`seed ${seed}: object and text inputs disagree: ${JSON.stringify(result).slice(0, 300)} vs ${JSON.stringify(asText).slice(0, 300)}`);
        return;
      }
    }
    if (result.ok) {
      valid++;
      const again = validate(result.canonical, context);
      if (!again.ok || again.canonical !== result.canonical || canonicalPolicy(result.policy) !== result.canonical || utf8Length(result.canonical) > 10_240) {
        t.fail(`seed ${seed}: canonical text is not a fixed point: ${result.canonical}`);
        return;
      }
    } else {
      invalid++;
      const problem = checkErrors(result.errors, parsedInput);
      if (problem !== null) {
        t.fail(`seed ${seed}: ${problem}; input ${JSON.stringify(input).slice(0, 500)}; errors ${JSON.stringify(result.errors).slice(0, 500)}`);
        return;
      }
    }
  }
  t.log(`${valid} valid, ${invalid} invalid`);
  t.true(valid > iterations / 20, 'mutations leave a fair share of documents valid');
  t.true(invalid > iterations / 2, 'most mutations are caught');
});

test('random JSON values at the root never throw', (t) => {
  const rand = generator(42);
  for (let i = 0; i < 1000; i++) {
    const value = randomValue(rand);
    for (const input of [value, JSON.stringify(value)]) {
      const result = validate(input, rand() < 0.5 ? 'resource' : 'identity');
      t.false(result.ok && typeof value !== 'object');
    }
  }
});
