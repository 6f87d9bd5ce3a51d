/** A task in a chain: synchronous (returns nothing) or asynchronous. */
export type ChainTask = () => Promise<void> | undefined;

/**
 * Runs a socket's frames in the order they came where handling one takes a call to another object:
 * tasks with the same owner and name run one after another, others side by side. A task with
 * nothing of its chain pending runs at once (a synchronous one finishes before `run` returns), and
 * one task's failure does not hold the tasks after it.
 */
export class SerialChains {
  private readonly tails = new WeakMap<object, Map<string, Promise<void>>>();

  /** Runs `task` after the pending tasks of `owner`'s chain `name`; settles as the task does. */
  run(owner: object, name: string, task: ChainTask): Promise<void> {
    let chains = this.tails.get(owner);
    const before = chains?.get(name);
    const running = before ? before.then(task) : task();
    if (!running) return Promise.resolve();
    if (!chains) {
      chains = new Map();
      this.tails.set(owner, chains);
    }
    const done = running.catch(() => undefined);
    const held = chains;
    held.set(name, done);
    void done.then(() => {
      if (held.get(name) === done) held.delete(name);
    });
    return running;
  }
}
