// A provider with only the required handler: tests the plugin layer's defaults.
import { servePlugin } from '../../src/terraform/plugin/serve.ts';

await servePlugin({
  provider: {
    async getMetadata() {
      return { server_capabilities: { plan_destroy: true, get_provider_schema_optional: true } };
    },
    async getProviderSchema() {
      return {
        provider: { version: 0, block: { description: 'stub', description_kind: 'PLAIN' } },
        resource_schemas: {},
        data_source_schemas: {},
        server_capabilities: { plan_destroy: true, get_provider_schema_optional: true },
      };
    },
    async stopProvider() {
      return {};
    },
  },
});
