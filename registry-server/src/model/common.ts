import { Type } from '@sinclair/typebox';

/** Key/value labels on a resource (ECR's resource tags). */
// The key pattern avoids \p{...} classes: the response serializer compiles it without the u flag.
export const ResourceTags = Type.Record(Type.String({ pattern: '^[A-Za-z0-9 _.:/=+@-]{1,128}$' }), Type.String({ maxLength: 256 }), {
  description: 'Key/value labels (at most 50; keys 1 to 128 of letters, digits, spaces and _.:/=+@-; values up to 256 characters).',
  maxProperties: 50,
  additionalProperties: false,
});

export const Version = Type.Integer({ minimum: 1, description: 'Increases with every change; send it back in If-Match to refuse stale writes.' });

export const Timestamp = Type.String({ format: 'date-time', description: 'RFC 3339 timestamp.' });

export const ListQuery = Type.Object(
  {
    prefix: Type.Optional(Type.String({ maxLength: 256, description: 'Only names that start with this prefix.' })),
    maxResults: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Page size.' })),
    nextToken: Type.Optional(Type.String({ maxLength: 1024, description: 'Token from the previous page.' })),
  },
  { additionalProperties: false },
);
