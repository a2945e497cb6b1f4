#!/usr/bin/env node
// edgion-controller: runs the built controller (npm ci builds it in `prepare`).
await import('../dist/src/controller/main.js');
