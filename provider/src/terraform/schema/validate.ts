// Terraform's own consistency checks of a provider schema (configschema InternalValidate), run
// on our projected schemas so that a model change that Terraform would refuse fails in tests
// rather than at `terraform init`.
import { hasDynamicTypes, parseType, type CtyType } from '../values/cty-type.ts';
import type { TfAttribute, TfBlock, TfObject } from './tfplugin-schema.ts';

const validName = /^[a-z0-9_]+$/;

/** Problems Terraform would report for the block; empty when it is valid. */
export function validateBlock(block: TfBlock, prefix = ''): string[] {
  const errors: string[] = [];
  const attributeNames = new Set<string>();
  for (const a of block.attributes) {
    if (attributeNames.has(a.name)) errors.push(`${prefix}${a.name}: attribute defined twice`);
    attributeNames.add(a.name);
    if (!validName.test(a.name)) errors.push(`${prefix}${a.name}: name may contain only lowercase letters, digits and underscores`);
    errors.push(...validateAttribute(a, prefix));
  }
  for (const b of block.block_types) {
    if (attributeNames.has(b.type_name)) errors.push(`${prefix}${b.type_name}: name defined as both attribute and child block type`);
    else if (!validName.test(b.type_name)) errors.push(`${prefix}${b.type_name}: name may contain only lowercase letters, digits and underscores`);
    errors.push(...validateBlock(b.block, `${prefix}${b.type_name}.`));
  }
  return errors;
}

function validateAttribute(a: TfAttribute, prefix: string): string[] {
  const errors: string[] = [];
  const at = `${prefix}${a.name}`;
  if (!a.optional && !a.required && !a.computed) errors.push(`${at}: must set Optional, Required or Computed`);
  if (a.optional && a.required) errors.push(`${at}: cannot set both Optional and Required`);
  if (a.computed && a.required) errors.push(`${at}: cannot set both Computed and Required`);
  const hasType = a.type !== undefined && a.type.length > 0;
  if (!hasType && a.nested_type === undefined) errors.push(`${at}: either Type or NestedType must be defined`);
  if (hasType && a.nested_type !== undefined) errors.push(`${at}: Type and NestedType cannot both be set`);
  if (hasType) {
    try {
      parseType(a.type as Buffer);
    } catch (e) {
      errors.push(`${at}: invalid type: ${(e as Error).message}`);
    }
  }
  if (a.nested_type) {
    if (a.nested_type.nesting === 'SET' && nestedHasDynamic(a.nested_type)) errors.push(`${at}: NestingSet attributes may not contain attributes of cty.DynamicPseudoType`);
    for (const n of a.nested_type.attributes) {
      if (!validName.test(n.name)) errors.push(`${at}.${n.name}: name may contain only lowercase letters, digits and underscores`);
      errors.push(...validateAttribute(n, `${at}.`));
      // A computed-only attribute's nested attributes can never be set, so they must be computed.
      if (a.computed && !a.optional && !n.computed) errors.push(`${at}.${n.name}: attributes nested in a computed-only attribute must be computed`);
    }
  }
  return errors;
}

function nestedHasDynamic(o: TfObject): boolean {
  return o.attributes.some((a) => (a.nested_type ? nestedHasDynamic(a.nested_type) : a.type !== undefined && hasDynamicTypes(parseType(a.type) as CtyType)));
}
