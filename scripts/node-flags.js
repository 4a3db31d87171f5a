'use strict';
/**
 * The V8 flags every batchgate process runs with, in one place: scripts/start.js, scripts/fleet.js
 * and the bench read them from here; package.json's start scripts, the Dockerfile and
 * docker-compose.yml spell them out, and test/node-flags.spec.ts fails when one of them differs.
 *
 * `--single-threaded-gc`: each isolate (the main thread and every ingest pool thread) collects its
 * own garbage. With V8's default, the pool threads' frequent young-generation collections run as
 * parallel jobs on V8's helper threads, which on a machine whose cores the pool already fills cost
 * about 3 s of CPU per 100 MB CSV upload for nothing (bench/RESULTS.md, issue 14: api CPU 17.5 →
 * 14.4 s, the helpers 3.5 → 0.3 s). It is a start-up flag: V8 crashes when it is set at run time.
 */
const NODE_FLAGS = ['--single-threaded-gc'];

module.exports = { NODE_FLAGS };
