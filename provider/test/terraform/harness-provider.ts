#!/usr/bin/env node
// A provider executable for the transport tests: servePlugin with handlers that exercise the
// edges of the transport. Values are tiny cty msgpack documents written by hand (an object of
// string attributes is a msgpack map of strings), so this does not depend on the codec.
//
//   data "berth_echo" "x" { input = "hi" }   → output = "echo:hi"   (ReadDataSource)
//   provider::berth::echo("x")               → "x"                  (CallFunction)
//   resource "berth_boom"                    → ReadResource throws
//   resource "berth_slow"                    → PlanResourceChange waits for its signal
//                                              (StopProvider or shutdown) and says so;
//                                              it touches $BERTH_FIXTURE_MARKER when it starts
//   ApplyResourceChange                      → writes to stdout with console.log, then answers
//   ImportResourceState                      → returns a response that cannot be encoded
//   ListResource                             → one event, then throws
//   resource "berth_thing" { name = "n" }    → a full lifecycle: id unknown in the plan,
//                                              "thing-<name>" after apply; state upgrades
//                                              pass the stored JSON through
import { writeFileSync } from 'node:fs';
import { decode, encode, ExtData } from '@msgpack/msgpack';
import { errorDiagnostic } from '../../src/terraform/plugin/diagnostics.ts';
import { servePlugin } from '../../src/terraform/plugin/serve.ts';
import type { ProviderHandlers, ReceivedDynamicValue, Schema } from '../../src/terraform/plugin/types.ts';

const str = (name: string, extra: Record<string, boolean>) => ({ name, type: Buffer.from('"string"'), ...extra });

const echoSchema: Schema = {
  block: { attributes: [str('input', { optional: true }), str('output', { computed: true })] },
};
const resourceSchema: Schema = { block: { attributes: [str('id', { computed: true })] } };
const thingSchema: Schema = { block: { attributes: [str('id', { computed: true }), str('name', { required: true })] } };
// cty msgpack: an unknown value is extension 0 (go-cty msgpack/unknown.go).
const UNKNOWN = new ExtData(0, new Uint8Array([0]));

function object(v: ReceivedDynamicValue | null): Record<string, unknown> {
  if (!v || v.msgpack.length === 0) return {};
  return decode(v.msgpack) as Record<string, unknown>;
}

let terraformVersion = '';

const handlers: ProviderHandlers = {
  async getProviderSchema() {
    return {
      provider: { block: { attributes: [str('endpoint', { optional: true })] } },
      resource_schemas: { berth_boom: resourceSchema, berth_slow: resourceSchema, berth_thing: thingSchema },
      data_source_schemas: { berth_echo: echoSchema },
      functions: {
        echo: {
          parameters: [{ name: 'value', type: Buffer.from('"string"') }],
          return: { type: Buffer.from('"string"') },
          summary: 'Returns its argument',
        },
      },
    };
  },
  async configureProvider(req) {
    terraformVersion = req.terraform_version;
    return {};
  },
  async readDataSource(req) {
    const config = object(req.config);
    const input = typeof config.input === 'string' ? config.input : '';
    return { state: { msgpack: encode({ input: config.input ?? null, output: `echo:${input}`, }) }, diagnostics: terraformVersion ? [] : [errorDiagnostic('not configured')] };
  },
  async upgradeResourceState(req) {
    return { upgraded_state: { json: req.raw_state?.json ?? Buffer.from('null') } };
  },
  async planResourceChange(req, ctx) {
    if (req.type_name === 'berth_thing') {
      const proposed = object(req.proposed_new_state);
      if (!req.proposed_new_state || req.proposed_new_state.msgpack[0] === 0xc0) return { planned_state: { msgpack: encode(null) } };
      const prior = req.prior_state && req.prior_state.msgpack[0] !== 0xc0 ? object(req.prior_state) : null;
      const replace = prior !== null && prior.name !== proposed.name;
      return {
        planned_state: { msgpack: encode({ id: prior && !replace ? prior.id : UNKNOWN, name: proposed.name }) },
        requires_replace: replace ? [{ steps: [{ attribute_name: 'name' }] }] : [],
      };
    }
    if (req.type_name !== 'berth_slow') return { planned_state: req.proposed_new_state ?? {} };
    // Tells a test driving Terraform that the slow call is in flight.
    if (process.env.BERTH_FIXTURE_MARKER) writeFileSync(process.env.BERTH_FIXTURE_MARKER, 'planning');
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    return { diagnostics: [errorDiagnostic('Stopped', `signal aborted: ${String((ctx.signal.reason as Error | undefined)?.message)}`)] };
  },
  async readResource(req) {
    if (req.type_name === 'berth_thing') return { new_state: req.current_state ?? {} };
    throw new Error('boom: the handler failed');
  },
  async applyResourceChange(req) {
    if (req.type_name === 'berth_thing') {
      if (!req.planned_state || req.planned_state.msgpack[0] === 0xc0) return { new_state: { msgpack: encode(null) } };
      const planned = object(req.planned_state);
      return { new_state: { msgpack: encode({ id: `thing-${String(planned.name)}`, name: planned.name }) } };
    }
    console.log('stray output from a handler');
    process.stdout.write('more stray output\n');
    return { new_state: req.planned_state ?? {} };
  },
  async importResourceState() {
    return { imported_resources: [{ type_name: 'berth_boom', state: 'not a DynamicValue' as never }] };
  },
  async *listResource() {
    yield { display_name: 'first' };
    throw new Error('list failed half-way');
  },
  async callFunction(req) {
    const arg = req.arguments[0];
    return { result: { msgpack: arg ? arg.msgpack : encode(null) } };
  },
};

await servePlugin({ provider: handlers, binaryName: 'harness-provider' });
