#!/usr/bin/env -S node --max-semi-space-size=64
// --max-semi-space-size=64 (MiB; Node's default is 16): every reading allocates short-lived
// objects (payload, reading, line protocol, rule inputs), and a larger young generation collects
// them in fewer, cheaper scavenges. In npm run bench, load (a), server CPU per reading went from
// 135 and 127 µs to 123 and 118 µs, accepted readings/s from 5,921 and 6,265 to 6,874 and
// 7,219, peak RSS unchanged (two pairs of runs). Run as `node bin/precall.js`, give the flag
// yourself (the Dockerfile does).
// Entry point for the `precall` command: runs the TypeScript CLI through tsx's loader so the
// package needs no build step.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli.ts');
