#!/usr/bin/env node
// edgion-ctl: the oclif entry. Commands are loaded from dist/src/commands (see package.json "oclif").
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
