import { Args } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { validate, type ValidateResult } from '../cli/validate.js';

export default class Validate extends BaseCommand<typeof Validate> {
  static override summary = 'Check a configuration folder or file locally, as the controller would (no controller needed).';

  static override description = `Runs the controller's checks on the files: YAML syntax, kinds and API versions, the CRD schemas with their defaults and CEL rules, plugin configurations, references between resources. Prints every problem as "file:line: Kind namespace/name: field.path: reason". Exits 1 when there is an error.`;

  static override examples = ['<%= config.bin %> validate conf/', '<%= config.bin %> validate route.yaml --json'];

  static override args = {
    path: Args.string({ description: 'Folder (read recursively) or file', required: true }),
  };

  async run(): Promise<ValidateResult> {
    return validate(this.args.path, this.out);
  }
}
