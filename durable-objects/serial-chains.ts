/** A task in a chain: synchronous (returns nothing) or asynchronous. */
export type ChainTask = () => Promise<void> | undefined;

/**
 * Runs a socket's frames in the order they came where handling one takes a call to another object:
 * tasks with the same owner and name run one after another, others side by side. A task with
 * nothing of its chain pending runs at once (a synchronous one finishes before `run` returns), and
 * one task's failure does not hold the tasks after it.
 */
export class SerialChains {
  /** The last pending task of each chain; a chain is forgotten once it has nothing pending. */
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `task` after the pending tasks of `owner`'s chain `name` (a socket id and what for); settles as the task does. */
  run(owner: string, name: string, task: ChainTask): Promise<void> {
    const key = `${owner}\u0000${name}`;
    const before = this.tails.get(key);
    const running = before ? before.then(task) : task();
    if (!running) return Promise.resolve();
    const done = running.catch(() => undefined);
    this.tails.set(key, done);
    void done.then(() => {
      if (this.tails.get(key) === done) this.tails.delete(key);
    });
    return running;
  }
}
