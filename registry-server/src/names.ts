import { RegistryError } from './errors.ts';

// distribution-spec grammar. A component cannot contain '%' or start with '.', so a decoded or
// encoded traversal ("..", "%2e%2e") never passes.
const component = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const namePattern = new RegExp(`^${component}(?:/${component})*$`);
const tagPattern = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

// ECR allows 2 to 256 characters; the single-character floor comes with the management API.
export const maxNameLength = 256;

export function isValidName(name: string): boolean {
  return name.length > 0 && name.length <= maxNameLength && namePattern.test(name);
}

export function assertName(name: string): void {
  if (!isValidName(name)) throw new RegistryError('NAME_INVALID', 'invalid repository name', { detail: { name: name.slice(0, 300) } });
}

export function isValidTag(tag: string): boolean {
  return tagPattern.test(tag);
}

/** Tags travel in manifest routes, so a bad one is reported as MANIFEST_INVALID (the spec has no tag code). */
export function assertTag(tag: string): void {
  if (!isValidTag(tag)) throw new RegistryError('MANIFEST_INVALID', 'invalid tag', { detail: { tag: tag.slice(0, 200) } });
}
