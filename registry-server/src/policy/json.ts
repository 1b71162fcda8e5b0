// Turning untrusted input (JSON text or an already-parsed value) into a plain JSON tree, with
// duplicate object keys reported: JSON.parse silently keeps the last one, which would let
// `{"Effect": "Deny", "Effect": "Allow"}` read differently to different tools.

import { childPath, indexPath } from './paths.ts';
import { utf8Length } from './limits.ts';
import type { PolicyError } from './document.ts';

export type JsonObject = { readonly [key: string]: unknown };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'object':
      return 'an object';
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    default:
      return typeof value;
  }
}

export type ParsedInput = { ok: true; value: unknown; duplicates: PolicyError[] } | { ok: false; error: PolicyError };

/**
 * Text is parsed as JSON (a leading byte-order mark is ignored); any other value is replaced by
 * its JSON serialization parsed back, so getters, prototypes, undefined and the like behave as
 * JSON would treat them and the result is always a plain tree.
 */
export function parseInput(input: unknown, maxInputBytes: number): ParsedInput {
  let text: string;
  if (typeof input === 'string') {
    text = input.startsWith('\uFEFF') ? input.slice(1) : input;
  } else {
    let serialized: string | undefined;
    try {
      serialized = JSON.stringify(input);
    } catch (err) {
      return { ok: false, error: { path: '', message: `the policy is not a JSON value (${describe(err)})` } };
    }
    if (serialized === undefined) return { ok: false, error: { path: '', message: 'the policy is not a JSON value' } };
    text = serialized;
  }
  // A UTF-16 unit is 1 to 3 UTF-8 bytes, so count exactly only when the length leaves it open.
  if (text.length > maxInputBytes || (text.length * 3 > maxInputBytes && utf8Length(text) > maxInputBytes)) {
    return { ok: false, error: { path: '', message: `the policy text exceeds ${maxInputBytes} bytes` } };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: { path: '', message: `invalid JSON: ${describe(err)}` } };
  }
  return { ok: true, value, duplicates: typeof input === 'string' ? duplicateKeys(text) : [] };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

interface Frame {
  readonly path: string;
  /** Keys seen so far, for an object; null for an array. */
  readonly keys: Set<string> | null;
  index: number;
  /** For objects: the key whose value comes next; for arrays: unused. */
  key: string;
  expectKey: boolean;
}

/**
 * Scans JSON text that JSON.parse has already accepted and reports each repeated object key at
 * its path. Iterative, so deeply nested input cannot exhaust the stack.
 */
export function duplicateKeys(text: string): PolicyError[] {
  const found: PolicyError[] = [];
  const stack: Frame[] = [];
  const valuePath = (): string => {
    const top = stack[stack.length - 1];
    if (top === undefined) return '';
    return top.keys === null ? indexPath(top.path, top.index) : childPath(top.path, top.key);
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const top = stack[stack.length - 1];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (top !== undefined && top.keys !== null && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) found.push({ path: childPath(top.path, key), message: 'duplicate key: only one value may be given' });
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (c === '{' || c === '[') {
      stack.push({ path: valuePath(), keys: c === '{' ? new Set() : null, index: 0, key: '', expectKey: c === '{' });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',' && top !== undefined) {
      if (top.keys === null) top.index++;
      else top.expectKey = true;
    }
    i++;
  }
  return found;
}
