export * from './snapshot.js';
export * from './listener.js';
export * from './gateway-config.js';
export * from './route.js';
export * from './backend.js';
export * from './plugin.js';
export * from './stream-route.js';
export * from './tls.js';
