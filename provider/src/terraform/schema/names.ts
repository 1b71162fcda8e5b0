// Attribute names: the model's camelCase field names and Terraform's snake_case ones.
//
// toTerraformName puts an underscore before each capital and lowercases it (repositoryName ->
// repository_name, kmsKey -> kms_key, s3Bucket -> s3_bucket); fromTerraformName uppercases each
// letter after an underscore. For every model name of the form [a-z][a-zA-Z0-9]* (the only
// form accepted) the two are exact inverses, since such a name has no underscore of its own:
// fromTerraformName(toTerraformName(n)) === n. Acronyms are not special-cased (repositoryURI
// would become repository_u_r_i), so models should spell them as words (repositoryUri).

const modelName = /^[a-z][a-zA-Z0-9]*$/;
const terraformName = /^[a-z][a-z0-9]*(?:_[a-z][a-z0-9]*)*$/;

export class NameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NameError';
  }
}

/** The Terraform (snake_case) name of a model field. */
export function toTerraformName(name: string): string {
  if (!modelName.test(name)) throw new NameError(`field name ${JSON.stringify(name)} is not camelCase ([a-z][a-zA-Z0-9]*); it has no reversible Terraform name`);
  return name.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
}

/** The model (camelCase) name of a Terraform attribute name made by toTerraformName. */
export function fromTerraformName(name: string): string {
  if (!terraformName.test(name)) throw new NameError(`attribute name ${JSON.stringify(name)} is not one toTerraformName produces`);
  return name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** True when the Terraform name is one toTerraformName can produce. */
export function isTerraformName(name: string): boolean {
  return terraformName.test(name);
}

/**
 * Names Terraform reserves in resource and data source blocks (meta-arguments); an attribute
 * with one of these names could never be set in configuration.
 */
export const reservedAttributeNames: ReadonlySet<string> = new Set(['count', 'depends_on', 'for_each', 'lifecycle', 'provider', 'provisioner', 'connection']);
