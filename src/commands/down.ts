import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { stopUp, type DownResult } from '../cli/down.js';

export default class Down extends BaseCommand<typeof Down> {
  static override summary = 'Stop the controller and gateway that "edgion-ctl up" started from this work dir.';

  static override description = `Reads <work-dir>/run/up.json, sends SIGTERM to the up supervisor (which stops its children gracefully), waits until every PID is gone (SIGKILL after --timeout) and removes the run file.
Exits 1 when there is nothing to stop.`;

  static override examples = ['<%= config.bin %> down', '<%= config.bin %> down --work-dir /tmp/edgion-a --timeout 30'];

  static override flags = {
    timeout: Flags.integer({ description: 'Seconds to wait before killing what is left', default: 15, min: 1, helpValue: 'SECONDS' }),
  };

  async run(): Promise<DownResult> {
    return stopUp(this.flags['work-dir'], this.flags.timeout, this.out);
  }
}
