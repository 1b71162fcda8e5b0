import { Type } from '@sinclair/typebox';
import { withMeta } from '@berth/registry-server/models';

/** The provider block: where the registry is and how to authenticate (all optional: env fallbacks). */
export const providerConfig = Type.Object(
  {
    endpoint: Type.Optional(Type.String({ description: 'Registry URL, e.g. http://127.0.0.1:5000 (or BERTH_ENDPOINT).' })),
    accessKeyId: Type.Optional(Type.String({ description: 'Access key id (or BERTH_ACCESS_KEY_ID).' })),
    secretAccessKey: Type.Optional(withMeta(Type.String({ description: 'Access key secret (or BERTH_SECRET_ACCESS_KEY).' }), { sensitive: true })),
    caCertificate: Type.Optional(Type.String({ description: 'PEM certificate(s) to trust for an https endpoint with a private CA (or BERTH_CA_CERTIFICATE).' })),
    insecure: Type.Optional(Type.Boolean({ description: 'Skip TLS certificate verification (test setups only; or BERTH_INSECURE=true).' })),
  },
  { additionalProperties: false },
);
