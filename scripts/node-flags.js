'use strict';
/**
 * The V8 flags every batchgate process runs with, in one place: scripts/start.js, scripts/fleet.js
 * and the bench read them from here; package.json's start scripts, the Dockerfile and
 * docker-compose.yml spell them out, and test/start-flags.e2e-spec.ts fails when one of them differs.
 *
 * `--single-threaded-gc`: each isolate (the main thread and every ingest pool thread) collects its
 * own garbage. With V8's default, the pool threads' frequent young-generation collections run as
 * parallel jobs on V8's helper threads, which on a machine whose cores the pool already fills cost
 * about 3 s of CPU per 100 MB CSV upload for nothing (bench/RESULTS.md, issue 14: api CPU 17.5 →
 * 14.4 s, the helpers 3.5 → 0.3 s). It is a start-up flag: V8 crashes when it is set at run time.
 *
 * `--max-semi-space-size=2` (MB): the main thread's young generation. V8 grows it to 16 MB
 * semi-spaces under sustained allocation (Nest's start already does, and a long upload's stream
 * buffers do), about 30 MB of RSS that stays: idle RSS 216 → 182 MB, peak growth after a 1 GB
 * upload 50 → 40 MB, at no measurable cost in upload speed. The pool threads' young generation is
 * set in code (pool.ts, Worker resourceLimits); the main thread's can only be set at start.
 */
const NODE_FLAGS = ['--single-threaded-gc', '--max-semi-space-size=2'];

module.exports = { NODE_FLAGS };
