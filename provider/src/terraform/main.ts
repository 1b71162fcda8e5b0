#!/usr/bin/env node
// Entry point of terraform-provider-berth. Terraform / OpenTofu start this process themselves
// (see plugin/serve.ts); run by hand, it explains that and exits 1.
import { servePlugin } from './plugin/serve.ts';
import { BerthProvider } from './provider/berth-provider.ts';

await servePlugin({ provider: new BerthProvider() });
