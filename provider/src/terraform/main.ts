#!/usr/bin/env node
// Entry point of terraform-provider-berth. Terraform / OpenTofu start this process themselves
// (see plugin/serve.ts); run by hand, it explains that and exits 1.
//
// `terraform-provider-berth schema` prints the document `terraform providers schema -json`
// prints for this provider (see schema-command.ts) and exits; it needs no plugin host.
import { servePlugin } from './plugin/serve.ts';
import { BerthProvider } from './provider/berth-provider.ts';
import { providerSchemaText } from './schema-command.ts';

if (process.argv[2] === 'schema') {
  const text = await providerSchemaText(new BerthProvider());
  await new Promise<void>((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
} else {
  await servePlugin({ provider: new BerthProvider() });
}
