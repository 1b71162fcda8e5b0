// Keys of the documents table, one per document-shaped resource.
export const documentKinds = {
  creationTemplate: 'repository-creation-template',
  repositoryPolicy: 'repository-policy',
  lifecyclePolicy: 'lifecycle-policy',
  registryPolicy: 'registry-policy',
} as const;
