// Terraform schemas projected from Berth's resource models.
export * from './tfplugin-schema.ts';
export * from './from-model.ts';
export * from './providers-schema-json.ts';
export { validateBlock } from './validate.ts';
export { isTerraformName, reservedAttributeNames, NameError } from './names.ts';
export { fieldsOf, shapeOf, typeOfShape, tfAttribute, metaOf, type Mode } from './fields.ts';
