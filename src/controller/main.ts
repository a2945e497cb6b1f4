// edgion-controller: watches a folder of YAML resources (standalone mode), validates and
// translates them, serves the admin API and streams snapshots to gateways.
import path from 'node:path';
import { SchemaValidator } from '../api/index.js';
import { AdminServer } from '../shared/admin-http.js';
import { createLogger } from '../shared/logger.js';
import { intFlag, parseFlags } from '../shared/process-args.js';
import { removeRunFile, writeRunFile } from '../shared/run-files.js';
import { VERSION } from '../shared/version.js';
import { controllerAdminHandler } from './admin/admin-api.js';
import { Applier } from './apply.js';
import { Controller } from './controller.js';
import { FileSource } from './source/file-source.js';
import { ConfigServer } from './sync/config-server.js';
import { AcmeService } from './acme/acme-service.js';
import { acmeAdminHandler, firstHandler } from './acme/acme-admin.js';
import { builtinRegistry } from '../plugins/registry.js';
import { pluginConfigValidator } from './validate/plugin-configs.js';
import { combineValidators, tlsResourceValidator } from './validate/tls-resources.js';

const USAGE = `usage: edgion-controller --conf-dir DIR [--work-dir W] [--admin-port 5800] [--grpc-port 5810]
                         [--admin-bind 127.0.0.1] [--grpc-bind 127.0.0.1] [--admin-token T] [--log-level info]`;

const flags = parseFlags(
  process.argv.slice(2),
  {
    'conf-dir': { type: 'string' },
    'work-dir': { type: 'string' },
    'admin-port': { type: 'string' },
    'grpc-port': { type: 'string' },
    'admin-bind': { type: 'string' },
    'grpc-bind': { type: 'string' },
    'admin-token': { type: 'string' },
    'log-level': { type: 'string' },
  },
  USAGE,
);

if (!flags['conf-dir']) {
  process.stderr.write(`--conf-dir is required\n\n${USAGE}\n`);
  process.exit(2);
}

const confDir = path.resolve(flags['conf-dir']);
const workDir = path.resolve(flags['work-dir'] ?? '.edgion');
const logger = createLogger({ name: 'controller', level: flags['log-level'] ?? process.env.EDGION_LOG_LEVEL ?? 'info', logDir: path.join(workDir, 'logs') });
const adminBind = flags['admin-bind'] ?? '127.0.0.1';
const grpcBind = flags['grpc-bind'] ?? '127.0.0.1';
const token = flags['admin-token'] ?? process.env.EDGION_ADMIN_TOKEN;

let ready = false;
const validator = new SchemaValidator();
const plugins = builtinRegistry();
const extraValidator = combineValidators(pluginConfigValidator(plugins), tlsResourceValidator);
let controller: Controller;
const source = new FileSource({ dir: confDir, logger, onChange: () => controller.reload('file change') });
const acmeService = new AcmeService({ workDir, logger, validator, extraValidator });
controller = new Controller({ source, validator, logger, extraValidator, plugins, extraResources: () => acmeService.extraResources(), acmeStates: () => acmeService.states() });
const configServer = new ConfigServer(logger);
controller.onSnapshot((s) => configServer.publish(s));
acmeService.attach({
  resources: (kind) => controller.store.ofKind(kind).filter((r) => r.good !== undefined),
  reload: (reason) => controller.reload(reason).version,
  gatewayAcks: () => configServer.sessions().map((x) => x.ackedVersion),
});
controller.onSnapshot(() => acmeService.sync());
const applier = new Applier(controller, source, validator, extraValidator);
let admin: AdminServer;

try {
  admin = new AdminServer({ bind: adminBind, port: intFlag(flags['admin-port'], 5800, 'admin-port'), ...(token ? { token } : {}), handler: firstHandler(acmeAdminHandler(acmeService), controllerAdminHandler({ controller, applier, configServer, confDir, ready: () => ready })) });
  const [adminPort, grpcPort] = await Promise.all([admin.listen(), configServer.listen(grpcBind, intFlag(flags['grpc-port'], 5810, 'grpc-port'))]);
  logger.info({ confDir, admin: `${adminBind}:${adminPort}`, grpc: `${grpcBind}:${grpcPort}`, version: VERSION }, `controller listening: admin ${adminBind}:${adminPort}, config stream ${grpcBind}:${grpcPort}`);
  source.start();
  controller.reload('startup');
  ready = true;
  writeRunFile(workDir, {
    name: 'controller',
    pid: process.pid,
    ports: { admin: adminPort, grpc: grpcPort },
    adminUrl: `http://${adminBind}:${adminPort}`,
    grpcAddress: `${grpcBind}:${grpcPort}`,
    startedAt: controller.startedAt.toISOString(),
    version: VERSION,
    confDir,
  });
} catch (err) {
  logger.fatal({ err: (err as Error).message }, `controller cannot start: ${(err as Error).message}`);
  logger.flush();
  process.exit(1);
}

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, `received ${signal}; stopping`);
  source.close();
  acmeService.close();
  await Promise.allSettled([admin.close(), configServer.close()]);
  removeRunFile(workDir, 'controller');
  logger.info('controller stopped');
  logger.flush();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
process.on('uncaughtException', (err) => {
  logger.fatal({ err: err.stack ?? err.message }, 'uncaught exception in the controller');
  logger.flush();
  process.exit(70);
});
