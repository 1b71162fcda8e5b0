// Size bounds, per context. Every bound can be overridden per call (ValidateOptions).

import type { PolicyContext } from './document.ts';

export interface PolicyLimits {
  /**
   * Largest document, in UTF-8 bytes of its canonical form (no whitespace), so the limit does not
   * depend on how the author indented the JSON. For ASCII documents bytes equal characters.
   */
  readonly maxBytes: number;
  /**
   * Largest raw input accepted for parsing at all (text as given, or an object's JSON
   * serialization), whitespace included. Guards the parser against oversized input.
   */
  readonly maxInputBytes: number;
  readonly maxStatements: number;
  /** Most entries in any one list: Action, Resource, a Principal type, a condition's values. */
  readonly maxListEntries: number;
  /** Most (operator, key) pairs in one statement's Condition block. */
  readonly maxConditions: number;
  /** Longest single string (Sid, Id, an ARN, a condition key or value). */
  readonly maxStringLength: number;
  /** Most errors (and, separately, warnings) reported; the rest are summarized in one entry. */
  readonly maxErrors: number;
}

/** ECR's repository policy limit is 10,240 characters; Berth uses it for the registry policy too. */
export const resourcePolicyLimits: PolicyLimits = Object.freeze({
  maxBytes: 10_240,
  maxInputBytes: 128 * 1024,
  maxStatements: 100,
  maxListEntries: 200,
  maxConditions: 50,
  maxStringLength: 2048,
  maxErrors: 100,
});

/** IAM's managed policy limit is 6,144 characters (whitespace not counted), as here. */
export const identityPolicyLimits: PolicyLimits = Object.freeze({
  ...resourcePolicyLimits,
  maxBytes: 6144,
  maxInputBytes: 64 * 1024,
});

export function defaultLimits(context: PolicyContext): PolicyLimits {
  return context === 'identity' ? identityPolicyLimits : resourcePolicyLimits;
}

/** UTF-8 length of a string, counting a lone surrogate as the 3 bytes of U+FFFD. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
