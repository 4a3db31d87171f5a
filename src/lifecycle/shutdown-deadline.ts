import type { INestApplicationContext } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';

const HOOKS = ['onModuleDestroy', 'beforeApplicationShutdown', 'onApplicationShutdown'] as const;
const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

type Hooked = Partial<Record<(typeof HOOKS)[number], (...args: unknown[]) => unknown>>;

export interface ShutdownDeadlineOptions {
  timeoutMs: number;
  /** Called at the deadline, before exiting: quick, synchronous releases (cut connections). */
  forceClose?: () => void;
  /** Where the one line goes; stderr by default. */
  write?: (line: string) => void;
  exit?: (code: number) => void;
}

/**
 * Bounds a Nest shutdown: after SIGTERM or SIGINT, if the lifecycle hooks have not all returned
 * within `timeoutMs` (a worker whose Redis never answers retries forever), the process exits 1 with
 * one line naming the hooks still running. Nest's own signal handling is left as it is: a shutdown
 * that finishes in time ends the way it always did.
 *
 * The hooks are observed by wrapping each instance's hook methods, so the providers themselves
 * know nothing of this.
 */
export function armShutdownDeadline(app: INestApplicationContext, options: ShutdownDeadlineOptions): void {
  const pending = new Set<string>();
  const track = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    pending.add(name);
    try {
      return await run();
    } finally {
      pending.delete(name);
    }
  };

  const seen = new Set<object>();
  for (const module of app.get(ModulesContainer).values()) {
    const wrappers = [
      ...module.providers.values(),
      ...module.controllers.values(),
      ...module.injectables.values(),
      ...module.middlewares.values(),
    ];
    for (const wrapper of wrappers) {
      const instance = wrapper.instance as (Hooked & object) | undefined;
      if (!instance || typeof instance !== 'object' || seen.has(instance)) continue;
      seen.add(instance);
      for (const hook of HOOKS) {
        const original = instance[hook];
        if (typeof original !== 'function') continue;
        const name = `${instance.constructor.name} (${hook})`;
        instance[hook] = (...args: unknown[]) => track(name, () => Promise.resolve(original.apply(instance, args)));
      }
    }
  }
  // The HTTP server closes between the two shutdown phases (NestApplication.dispose).
  const context = app as unknown as { dispose?: () => Promise<void> };
  const dispose = context.dispose?.bind(app);
  if (dispose) context.dispose = () => track('HTTP server (close)', dispose);

  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let armed = false;
  const onSignal = (signal: NodeJS.Signals) => {
    for (const s of SIGNALS) process.off(s, onSignal);
    if (armed) return;
    armed = true;
    setTimeout(() => {
      try {
        options.forceClose?.();
      } catch {
        // best effort: the process exits next anyway
      }
      const what = pending.size ? [...pending].join(', ') : 'nothing tracked (an open handle keeps the process alive)';
      write(
        `batchgate: ${signal}: shutdown did not finish within ${options.timeoutMs / 1000} s ` +
          `(SHUTDOWN_TIMEOUT_SECONDS); still pending: ${what}; exiting with code 1`,
      );
      exit(1);
    }, options.timeoutMs);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
}
