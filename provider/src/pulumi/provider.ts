import type * as pulumi from '@pulumi/pulumi';

/**
 * The dynamic provider for one Berth resource type. It captures nothing but the model's name:
 * every method imports the runtime when called, which reads credentials from the stack
 * configuration or the environment then, so no client, socket or secret is ever serialized.
 */
export function dynamicProvider(modelName: string): pulumi.dynamic.ResourceProvider {
  const runtime = (): Promise<typeof import('./runtime.ts')> => import('@berth/provider/pulumi-runtime') as Promise<typeof import('./runtime.ts')>;
  return {
    async configure(req: pulumi.dynamic.ConfigureRequest) {
      (await runtime()).configure(req.config);
    },
    async check(_olds: unknown, news: Record<string, unknown>) {
      return (await runtime()).check(modelName, news);
    },
    async diff(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>) {
      return (await runtime()).diff(modelName, olds, news);
    },
    async create(inputs: Record<string, unknown>) {
      return (await runtime()).create(modelName, inputs);
    },
    async read(id: string, props: Record<string, unknown>) {
      return (await runtime()).read(modelName, id, props);
    },
    async update(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>) {
      return (await runtime()).update(modelName, olds, news);
    },
    async delete(_id: string, props: Record<string, unknown>) {
      await (await runtime()).remove(modelName, props);
    },
  };
}
