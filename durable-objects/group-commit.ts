/** What the step answers one call. */
export type StepOutcome<Out> = { ok: true; value: Out } | { ok: false; error: unknown };

/**
 * Gathers calls that arrive close together and runs them as one step, so concurrent publishes to a
 * topic share one write (and its commit) instead of paying one each. Each call arrives in its own
 * turn of the event loop, so a microtask would group nothing: the step runs on the next timer tick.
 * The step answers each call on its own (one call's failure is not its neighbours'); a step that
 * fails as a whole fails every call it took.
 */
export class GroupCommit<In, Out> {
  private pending: { input: In; resolve: (out: Out) => void; reject: (err: unknown) => void }[] = [];
  private scheduled = false;

  constructor(private readonly step: (inputs: In[]) => Promise<StepOutcome<Out>[]>) {}

  submit(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setTimeout(() => void this.flush(), 0);
    });
  }

  private async flush(): Promise<void> {
    const calls = this.pending;
    this.pending = [];
    this.scheduled = false;
    try {
      const outcomes = await this.step(calls.map((call) => call.input));
      calls.forEach((call, i) => {
        const outcome = outcomes[i];
        if (outcome.ok) call.resolve(outcome.value);
        else call.reject(outcome.error);
      });
    } catch (err) {
      for (const call of calls) call.reject(err);
    }
  }
}
