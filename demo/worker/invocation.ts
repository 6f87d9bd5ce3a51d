import { AsyncLocalStorage } from "node:async_hooks";

/**
 * The ExecutionContext of the queue invocation that is running. A queue consumer gets the
 * Worker's env from the mesh but not this, while the mesh's `fetch`, which the Notification
 * Service publishes through, takes one: the Worker's `queue` handler runs the mesh inside it.
 */
const running = new AsyncLocalStorage<ExecutionContext>();

export function withInvocation<T>(ctx: ExecutionContext, run: () => T): T {
  return running.run(ctx, run);
}

export function currentInvocation(): ExecutionContext {
  const ctx = running.getStore();
  if (ctx === undefined) throw new Error("no invocation is running: call this inside withInvocation()");
  return ctx;
}
