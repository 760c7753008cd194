#!/usr/bin/env -S node --max-semi-space-size=64
// Node flags: src/node-flags.ts says which and why (a larger young generation). Started as
// `node bin/precall.js`, give them yourself (the Dockerfile does).
// Entry point for the `precall` command: runs the TypeScript CLI through tsx's loader so the
// package needs no build step.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli.ts');
