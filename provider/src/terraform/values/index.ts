// cty types and values for the Terraform plugin protocol.
export * from './cty-type.ts';
export * from './value.ts';
export { encodeMsgpack, decodeMsgpack, unknownWithRefinementsExt } from './msgpack.ts';
export { encodeJson, decodeJson, type DecodeJsonOptions } from './json.ts';
export { parseNumber, formatNumber } from './number.ts';
export { goJsonString, goJsonStringify, compareGoStrings } from './go-json.ts';
