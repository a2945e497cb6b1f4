import { Flags } from '@oclif/core';
import { unreachableHint } from '../cli/admin-client.js';
import { BaseCommand } from '../cli/base-command.js';
import { assessStatus, collectStatus, renderStatus, waitForReady, type StatusReport } from '../cli/status.js';

export default class Status extends BaseCommand<typeof Status> {
  static override summary = 'Show what runs: controller, gateway, configuration versions, listeners, resources.';

  static override description = `Exit code: 0 when the controller answers and the gateway is ready; 1 when the gateway is not ready (or, with --strict, when resources are rejected); 3 when the controller or the gateway cannot be reached.`;

  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --wait --timeout 60', '<%= config.bin %> status --json --strict'];

  static override flags = {
    wait: Flags.boolean({ description: 'Wait until the controller answers and the gateway is ready' }),
    timeout: Flags.integer({ description: 'Seconds to wait with --wait', default: 30, min: 1, helpValue: 'SECONDS' }),
    strict: Flags.boolean({ description: 'Also exit 1 when any resource is rejected' }),
  };

  async run(): Promise<StatusReport> {
    const controller = await this.controllerApi();
    const gateway = await this.gatewayApi();
    const report = this.flags.wait
      ? await waitForReady(controller, gateway, { timeoutSeconds: this.flags.timeout, out: this.out })
      : await collectStatus(controller, gateway);
    for (const line of renderStatus(report)) this.out.line(line);
    const problem = assessStatus(report, this.flags.strict, {
      controller: unreachableHint(controller.target),
      gateway: unreachableHint(gateway.target),
    });
    if (problem) throw problem;
    return report;
  }
}
