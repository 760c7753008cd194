// aedes-persistence's own conformance suite (node:test) run against SqlitePersistence.
// Started by sqlite-persistence.test.ts as `node --import tsx --test <this file>`.
import { test } from 'node:test';
import abstractPersistence from 'aedes-persistence/abstract.js';
import { SqlitePersistence } from '../../../src/broker/sqlite-persistence.ts';

abstractPersistence({ test, persistence: () => new SqlitePersistence({ file: ':memory:' }), testAsync: true });
