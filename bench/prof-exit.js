'use strict';
/**
 * Preloaded (`node -r`) into the api and worker when BENCH_PROFILE is set, so that `--cpu-prof`
 * gets to write its profile. NestJS's shutdown hook closes the app on SIGTERM and then re-sends the
 * signal to itself, which would end the process before V8 writes the profile; this listener turns
 * that second signal into a normal exit. On the first signal Nest's own listener is still there,
 * and this one stays out of its way.
 */
process.on('SIGTERM', () => {
  if (process.listenerCount('SIGTERM') === 1) process.exit(0);
});
