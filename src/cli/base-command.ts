// The base class of every edgion-ctl command (oclif "custom base class").
//
// It owns what must be the same everywhere:
// - the shared flags (--json, --controller-url, --gateway-url, --token, --work-dir);
// - --json: exactly one JSON document on stdout, the command's result or
//   `{"error":{code,message,details}}`, nothing else there;
// - exit codes of CONTRACT.md: 0 ok, 1 ran and failed, 2 usage (oclif's own parse
//   errors included), 3 controller or gateway unreachable;
// - admin API clients, closed when the command ends so the process can exit.
// Commands stay thin: read this.flags/this.args, call a library function, print.

import { Command, Errors as OclifErrors, Flags, type Interfaces } from '@oclif/core';
import { AdminClient, ControllerApi, GatewayApi } from './admin-client.js';
import { CliError, toCliError, toErrorDocument } from './errors.js';
import { createOutput, type Output } from './output.js';
import { DEFAULT_WORK_DIR, workPaths, type WorkPaths } from './run-files.js';
import { resolveTarget, type AdminTarget, type ProcessName } from './targets.js';

export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>;
export type CommandArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

const GLOBAL = 'GLOBAL';

export abstract class BaseCommand<T extends typeof Command> extends Command {
  // oclif prints run()'s return value as JSON when --json is given; we keep that
  // mechanism and override logJson/catch below to fix the document's shape.
  static override enableJsonFlag = true;

  static override baseFlags = {
    json: Flags.boolean({
      description: 'Print one JSON document on stdout (the result, or {"error":{...}}) and nothing else there.',
      helpGroup: GLOBAL,
    }),
    'controller-url': Flags.string({
      description:
        'Controller admin API. Default: $EDGION_CONTROLLER_URL, else the URL in <work-dir>/run/controller.json, else http://127.0.0.1:5800.',
      helpValue: 'URL',
      helpGroup: GLOBAL,
    }),
    'gateway-url': Flags.string({
      description:
        'Gateway admin API. Default: $EDGION_GATEWAY_URL, else the URL in <work-dir>/run/gateway.json, else http://127.0.0.1:5900.',
      helpValue: 'URL',
      helpGroup: GLOBAL,
    }),
    token: Flags.string({
      description: 'Bearer token for the admin APIs (needed when they were started with a token).',
      env: 'EDGION_ADMIN_TOKEN',
      helpValue: 'TOKEN',
      helpGroup: GLOBAL,
    }),
    'work-dir': Flags.string({
      description: 'Work dir of `edgion-ctl up` (logs, run files).',
      default: DEFAULT_WORK_DIR,
      helpValue: 'DIR',
      helpGroup: GLOBAL,
    }),
  };

  protected flags!: CommandFlags<T>;
  protected args!: CommandArgs<T>;
  protected out!: Output;

  private argvParsed = false;
  private jsonWritten = false;
  private readonly clients: AdminClient[] = [];

  public override async init(): Promise<void> {
    await super.init();
    // Created before parsing, so a parse error can still be reported in --json form.
    this.out = createOutput({ json: this.jsonEnabled() });
    const { args, flags } = await this.parse({
      args: this.ctor.args,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      flags: this.ctor.flags,
      strict: this.ctor.strict,
    });
    this.flags = flags as CommandFlags<T>;
    this.args = args as CommandArgs<T>;
    this.argvParsed = true;
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<void> {
    // this.exit() throws ExitError on purpose; let oclif finish it.
    if (err instanceof OclifErrors.ExitError) throw err;
    const error = toCliError(err, !this.argvParsed);
    process.exitCode = error.exitCode;
    if (this.jsonEnabled()) {
      this.logJson(toErrorDocument(error));
      return;
    }
    process.stderr.write(formatErrorText(error));
  }

  protected override async finally(err: Error | undefined): Promise<void> {
    await Promise.allSettled(this.clients.map((c) => c.close()));
    await super.finally(err);
  }

  /** Writes the one JSON document. Later calls are ignored (see `up`, which prints when ready). */
  protected override logJson(json: unknown): void {
    if (this.jsonWritten) return;
    this.jsonWritten = true;
    process.stdout.write(JSON.stringify(json, null, 2) + '\n');
  }

  protected get paths(): WorkPaths {
    return workPaths(this.flags['work-dir']);
  }

  protected async target(name: ProcessName): Promise<AdminTarget> {
    return resolveTarget({
      name,
      flagValue: name === 'controller' ? this.flags['controller-url'] : this.flags['gateway-url'],
      env: process.env,
      workDir: this.flags['work-dir'],
      token: this.flags.token,
    });
  }

  protected async controllerApi(): Promise<ControllerApi> {
    return new ControllerApi(this.track(new AdminClient(await this.target('controller'))));
  }

  protected async gatewayApi(): Promise<GatewayApi> {
    return new GatewayApi(this.track(new AdminClient(await this.target('gateway'))));
  }

  private track(client: AdminClient): AdminClient {
    this.clients.push(client);
    return client;
  }
}

export function formatErrorText(error: CliError): string {
  let text = `Error: ${error.message}\n`;
  if (error.hint) text += `Hint: ${error.hint}\n`;
  return text;
}
