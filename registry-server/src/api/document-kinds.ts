// Keys of the documents table, one per document-shaped resource.
export const documentKinds = {
  creationTemplate: 'repository-creation-template',
  repositoryPolicy: 'repository-policy',
  lifecyclePolicy: 'lifecycle-policy',
  registryPolicy: 'registry-policy',
  /** When a repository's lifecycle policy last ran. */
  lifecycleRun: 'lifecycle-run',
} as const;
