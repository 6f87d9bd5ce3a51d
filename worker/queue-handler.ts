import * as v from "valibot";
import { QueueMessageSchema } from "../protocol/queue-message.ts";
import type { Env } from "../runtime/env.ts";
import { logLine } from "../runtime/log.ts";
import { deliver, describeError, messageFields } from "./consumers/deliver.ts";
import { recordDeadLetter } from "./consumers/record-dead-letter.ts";
import type { ConsumerRegistry } from "./consumers/registry.ts";
import { queueRetryPolicy, retryDelaySeconds } from "./consumers/retry-delay.ts";

/** The queues the mesh consumes: the one queue-target subscriptions feed, and its dead-letter queue. */
export interface MeshQueues {
  deliveries: string;
  deadLetters: string;
}

/** The queue names of the wrangler.toml blocks in docs/own-worker.md. */
export const DEFAULT_QUEUES: MeshQueues = { deliveries: "mesh-deliveries", deadLetters: "mesh-deliveries-dlq" };

/**
 * The Worker's `queue()` handler. Each message is acknowledged or retried on its own, so one
 * failing message never makes the others of its batch run again. Messages of one event run one
 * after another (the second then finds it done); different events run concurrently.
 */
export async function handleQueue(
  batch: MessageBatch<unknown>,
  env: Env,
  executionCtx: ExecutionContext,
  registry: ConsumerRegistry,
  queues: MeshQueues = DEFAULT_QUEUES,
): Promise<void> {
  if (batch.queue !== queues.deliveries && batch.queue !== queues.deadLetters) {
    throw new Error(`no handler for queue "${batch.queue}"`);
  }
  const policy = queueRetryPolicy(env);
  const chains = new Map<string, Promise<void>>();
  for (const msg of batch.messages) {
    const parsed = v.safeParse(QueueMessageSchema, msg.body);
    if (!parsed.success) {
      // Retrying cannot fix a body: it is logged whole and dropped.
      logLine("queue message invalid", {
        queue: batch.queue,
        messageId: msg.id,
        issue: parsed.issues[0].message,
        body: msg.body,
      });
      msg.ack();
      continue;
    }
    const message = parsed.output;
    const key = `${message.event.source}\n${message.event.id}`;
    const run = async () => {
      try {
        if (batch.queue === queues.deadLetters) {
          await recordDeadLetter(message, msg.attempts, env, registry);
          msg.ack();
          return;
        }
        const outcome = await deliver(message, msg.attempts, { env, executionCtx, registry, policy });
        if (outcome.ack) msg.ack();
        else msg.retry({ delaySeconds: outcome.delaySeconds });
      } catch (err) {
        // The mesh itself failed (a ledger or store unreachable): try the message again later.
        const delaySeconds = retryDelaySeconds(msg.attempts, policy);
        logLine("queue message error", {
          ...messageFields(message, msg.attempts),
          queue: batch.queue,
          error: describeError(err),
          delaySeconds,
        });
        msg.retry({ delaySeconds });
      }
    };
    const next = (chains.get(key) ?? Promise.resolve()).then(run);
    chains.set(key, next);
  }
  await Promise.all(chains.values());
}
