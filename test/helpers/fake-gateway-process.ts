// FAKE edgion-gateway for supervisor tests (see fake-process-common.ts).
// FAKE_GATEWAY_MODE picks a behaviour:
//   ok                     ready at once (default)
//   crash-at-first-start   the first start exits 1 before writing its run file
//   crash-after-ready-once the first start becomes ready, then exits 1 after 1.5 s
//   never-ready            /ready answers 503 forever
//   eaddrinuse             prints a listen EADDRINUSE error and exits 1

import { startFakeGateway } from './fake-admin.js';
import { flag, setupFakeProcess } from './fake-process-common.js';

const args = process.argv.slice(2);
const mode = process.env.FAKE_GATEWAY_MODE ?? 'ok';
const fake = setupFakeProcess('gateway', args);
const adminPort = Number(flag(args, '--admin-port') ?? 5900);
fake.log(`fake gateway: starting (mode ${mode}), controller ${flag(args, '--controller')}`);

if (mode === 'eaddrinuse') {
  process.stderr.write(`Error: listen EADDRINUSE: address already in use 127.0.0.1:${adminPort}\n`);
  process.exit(1);
}
if (mode === 'crash-at-first-start' && fake.firstTime('crash')) {
  process.stderr.write('fake gateway: simulated crash at startup\n');
  process.exit(1);
}

const admin = await startFakeGateway({ port: adminPort, token: process.env.EDGION_ADMIN_TOKEN, ready: mode !== 'never-ready' });
fake.onStop(() => admin.close());
fake.writeRunFile({ admin: admin.port }, admin.url);
fake.log(`fake gateway: admin ${admin.url}`);
if (mode === 'never-ready') fake.log('fake gateway: waiting for a configuration that never comes');

if (mode === 'crash-after-ready-once' && fake.firstTime('crash')) {
  setTimeout(() => {
    process.stderr.write('fake gateway: simulated crash after ready\n');
    process.exit(1);
  }, 1500);
}
