import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { GET_FORMATS, getResources, renderGet, type GetResult } from '../cli/get.js';

export default class Get extends BaseCommand<typeof Get> {
  static override summary = 'List resources of a kind, or show one, as the controller holds them.';

  static override description = `STATUS comes from the resource's conditions: Programmed, Accepted, "Accepted (<Type>: <reason>)" when a condition is False, or "Rejected: <reason>". Routes use status.parents[*].conditions.
Without -n, a NAME is looked up in all namespaces. -o json|yaml prints the resources themselves; --json prints edgion-ctl's own result document.
Kinds: GatewayClass, Gateway, HTTPRoute, GRPCRoute, TCPRoute, UDPRoute, TLSRoute, ReferenceGrant, BackendTLSPolicy, Namespace, Service, EndpointSlice, Endpoints, Secret, ConfigMap, EdgionPlugins, EdgionStreamPlugins, EdgionTls, EdgionGatewayConfig, EdgionAcme, PluginMetaData, LinkSys (case-insensitive; plurals and short names such as gtw, svc, gc work).`;

  static override examples = [
    '<%= config.bin %> get httproutes',
    '<%= config.bin %> get httproute demo -n default -o yaml',
    '<%= config.bin %> get gateways -A -o wide',
  ];

  static override args = {
    kind: Args.string({ description: 'Resource kind, e.g. HTTPRoute, httproutes, gtw', required: true }),
    name: Args.string({ description: 'Resource name (omit to list)' }),
  };

  static override flags = {
    namespace: Flags.string({ char: 'n', description: 'Namespace (default: all namespaces)', exclusive: ['all-namespaces'] }),
    'all-namespaces': Flags.boolean({ char: 'A', description: 'All namespaces (the default when -n is not given)' }),
    output: Flags.option({ char: 'o', description: 'Output format', options: GET_FORMATS, default: 'table' as const })(),
  };

  async run(): Promise<GetResult> {
    const result = await getResources(await this.controllerApi(), {
      kind: this.args.kind,
      name: this.args.name,
      namespace: this.flags.namespace,
      allNamespaces: this.flags['all-namespaces'],
    });
    if (!this.out.json) for (const line of await renderGet(result, this.flags.output)) this.out.line(line);
    return result;
  }
}
