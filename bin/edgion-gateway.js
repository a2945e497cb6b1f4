#!/usr/bin/env node
// edgion-gateway: runs the built gateway (npm ci builds it in `prepare`).
await import('../dist/src/gateway/main.js');
