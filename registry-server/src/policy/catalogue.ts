// Warnings from a caller-supplied catalogue of known actions and condition keys. Validation never
// depends on a catalogue: new actions are accepted before any catalogue lists them.

import type { PolicyCatalogue } from './document.ts';
import { wildcardMatch } from './patterns.ts';

/** Null when the pattern matches a known action (or the catalogue says nothing about it). */
export function unknownActionWarning(pattern: string, catalogue: PolicyCatalogue): string | null {
  const actions = catalogue.actions;
  if (actions === undefined || pattern === '*') return null;
  const colon = pattern.indexOf(':');
  const service = pattern.slice(0, colon);
  const names = Object.hasOwn(actions, service) ? actions[service] : undefined;
  if (names === undefined) return `"${service}" is not a known service prefix`;
  const name = pattern.slice(colon + 1);
  if (names.some((known) => wildcardMatch(name, known, true))) return null;
  return `matches no known ${service} action`;
}

export function unknownConditionKeyWarning(key: string, catalogue: PolicyCatalogue): string | null {
  const keys = catalogue.conditionKeys;
  if (keys === undefined) return null;
  const lower = key.toLowerCase();
  const known = keys.some((k) => {
    const entry = k.toLowerCase();
    return entry.endsWith('/') ? lower.startsWith(entry) && lower.length > entry.length : lower === entry;
  });
  return known ? null : 'is not a known condition key';
}
