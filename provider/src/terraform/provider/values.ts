import type { CtyType } from '../values/cty-type.ts';
import { decodeJson, decodeMsgpack, encodeMsgpack, isUnknown, type CtyObjectValue, type CtyValue } from '../values/index.ts';
import type { DynamicValue, ReceivedDynamicValue } from '../plugin/types.ts';

/** A DynamicValue from Terraform: msgpack when present, else JSON; null when absent. */
export function decodeValue(dv: ReceivedDynamicValue | null, type: CtyType): CtyObjectValue | null {
  if (!dv) return null;
  const v = dv.msgpack && dv.msgpack.length > 0 ? decodeMsgpack(dv.msgpack, type) : dv.json && dv.json.length > 0 ? decodeJson(dv.json, type) : null;
  return v as CtyObjectValue | null;
}

export function encodeValue(value: CtyValue, type: CtyType): DynamicValue {
  return { msgpack: encodeMsgpack(value, type) };
}

/** Deep equality of cty values; an unknown equals nothing. */
export function sameValue(a: CtyValue | undefined, b: CtyValue | undefined): boolean {
  if (isUnknown(a) || isUnknown(b)) return false;
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => sameValue(x, b[i]));
  }
  if (typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => sameValue((a as CtyObjectValue)[k], (b as CtyObjectValue)[k]));
  }
  return false;
}
