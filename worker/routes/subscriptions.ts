import type { Context, Handler, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { queueBinding } from "../../durable-objects/queue-sender.ts";
import {
  DEAD_LETTER_LIST_LIMITS,
  type SubscriptionDeadLetterList,
  SubscriptionDeadLetterQuerySchema,
} from "../../protocol/dead-letter-api.ts";
import type { ErrorCode } from "../../protocol/error-codes.ts";
import {
  isValidSubscriptionName,
  type PutSubscriptionResponse,
  RedriveSchema,
  type RotateSecretResponse,
  RotateSecretSchema,
  SeekSchema,
  SUBSCRIPTION_NAME_RULE,
  SubscriptionConfigSchema,
  type SubscriptionList,
  type SubscriptionRedriveResponse,
} from "../../protocol/subscriptions.ts";
import { MeshError } from "../../runtime/mesh-error.ts";
import type { AppEnv } from "../app-env.ts";
import { listAnswer, pageOf, subscriptionSeqAfter } from "../dead-letters/paging.ts";
import { readJsonBody } from "../read-json-body.ts";
import { checkTopic, topicStub } from "../topic-param.ts";
import { parseBody, parseQuery } from "../validate.ts";
import { allowedWebhookHosts, checkWebhookUrl } from "../webhook-url-policy.ts";

type Ctx = Context<AppEnv>;

const MAX_BODY_BYTES = 64 * 1024;

/** The topic and subscription named in the path, both checked. */
function target(c: Ctx): { topic: string; name: string; stub: ReturnType<typeof topicStub> } {
  const topic = checkTopic(c.req.param("topic"));
  const name = c.req.param("name") ?? "";
  if (!isValidSubscriptionName(name)) {
    throw new MeshError("invalid_subscription_name", `invalid subscription name "${name}": ${SUBSCRIPTION_NAME_RULE}`, {
      rule: SUBSCRIPTION_NAME_RULE,
    });
  }
  return { topic, name, stub: topicStub(c.env, topic) };
}

/** A redrive may be sent without a body: an empty one means `{}` (every dead letter). */
async function optionalJsonBody(c: Ctx): Promise<unknown> {
  const text = await c.req.raw.clone().text();
  return text.trim() === "" ? {} : readJsonBody(c.req.raw);
}

/** A refusal from the topic's Durable Object, as the one error response. */
function refused<T extends { ok: false; code: ErrorCode; message: string }>(result: T): MeshError {
  const { ok: _ok, code, message, ...details } = result;
  return new MeshError(code, message, details);
}

/** Bodies here are small configs and seq lists; a larger one is refused while it streams in. */
export const subscriptionBodyLimit: MiddlewareHandler<AppEnv> = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new MeshError("body_too_large", `a subscription request body is at most ${MAX_BODY_BYTES} bytes`, {
      limit: MAX_BODY_BYTES,
    });
  },
});

/** `GET /v1/topics/:topic/subscriptions`. */
export const listSubscriptions: Handler<AppEnv> = async (c) => {
  const topic = checkTopic(c.req.param("topic"));
  const { subscriptions } = await topicStub(c.env, topic).listSubscriptions(topic);
  const body: SubscriptionList = { topic, subscriptions };
  return c.json(body);
};

/** `PUT …/subscriptions/:name`: creates or updates; the webhook URL and queue binding are checked here. */
export const putSubscription: Handler<AppEnv> = async (c) => {
  const { topic, name, stub } = target(c);
  const config = parseBody(SubscriptionConfigSchema, await readJsonBody(c.req.raw));
  if (config.target.type === "webhook") {
    const allowed = checkWebhookUrl(config.target.url, allowedWebhookHosts(c.env.WEBHOOK_ALLOWED_HOSTS));
    if (!allowed.ok) throw new MeshError("webhook_url_not_allowed", allowed.message, { field: "target.url" });
  } else if (!queueBinding(c.env, config.target.queue)) {
    throw new MeshError("unknown_queue", `the Worker has no Queue binding named ${config.target.queue}`, {
      field: "target.queue",
    });
  }
  const result = await stub.putSubscription(topic, name, config);
  if (!result.ok) throw refused(result);
  const body: PutSubscriptionResponse = {
    ...result.subscription,
    created: result.created,
    ...(result.secret === null ? {} : { secret: result.secret }),
  };
  return c.json(body, result.created ? 201 : 200);
};

export const getSubscription: Handler<AppEnv> = async (c) => {
  const { topic, name, stub } = target(c);
  const result = await stub.getSubscription(topic, name);
  if (!result.ok) throw refused(result);
  return c.json(result.subscription);
};

export const deleteSubscription: Handler<AppEnv> = async (c) => {
  const { topic, name, stub } = target(c);
  const result = await stub.deleteSubscription(topic, name);
  if (!result.ok) throw refused(result);
  return c.body(null, 204);
};

export const pauseSubscription: Handler<AppEnv> = async (c) => {
  const { topic, name, stub } = target(c);
  const result = await stub.pauseSubscription(topic, name);
  if (!result.ok) throw refused(result);
  return c.json(result.subscription);
};

export const resumeSubscription: Handler<AppEnv> = async (c) => {
  const { topic, name, stub } = target(c);
  const result = await stub.resumeSubscription(topic, name);
  if (!result.ok) throw refused(result);
  return c.json(result.subscription);
};

export const seekSubscription: Handler<AppEnv> = async (c) => {
  const { topic, name, stub } = target(c);
  const { to } = parseBody(SeekSchema, await readJsonBody(c.req.raw));
  const result = await stub.seekSubscription(topic, name, to);
  if (!result.ok) throw refused(result);
  return c.json(result.subscription);
};

export const rotateSubscriptionSecret: Handler<AppEnv> = async (c) => {
  const { topic, name, stub } = target(c);
  const request = parseBody(RotateSecretSchema, await optionalJsonBody(c));
  const result = await stub.rotateSubscriptionSecret(topic, name, request);
  if (!result.ok) throw refused(result);
  const body: RotateSecretResponse = {
    ...result.subscription,
    ...(result.secret === null ? {} : { secret: result.secret }),
  };
  return c.json(body);
};

export const listSubscriptionDeadLetters: Handler<AppEnv> = async (c) => {
  const { topic, name, stub } = target(c);
  const query = parseQuery(SubscriptionDeadLetterQuerySchema, c.req.url);
  const limit = query.limit ?? DEAD_LETTER_LIST_LIMITS.defaultLimit;
  const after = { subscription: name, seq: subscriptionSeqAfter(query.cursor, topic, name) };
  const result = await stub.listDeadLetters(topic, { subscription: name, after, limit: limit + 1 });
  if (!result.ok) throw refused(result);
  const body: SubscriptionDeadLetterList = listAnswer(pageOf(result.deadLetters, limit));
  return c.json(body);
};

export const redriveSubscriptionDeadLetters: Handler<AppEnv> = async (c) => {
  const { topic, name, stub } = target(c);
  const { seqs } = parseBody(RedriveSchema, await optionalJsonBody(c));
  const result = await stub.redriveDeadLetters(topic, name, seqs);
  if (!result.ok) throw refused(result);
  // Accepted: the topic's alarm delivers them, in seq order, with the subscription's retry policy.
  const body: SubscriptionRedriveResponse = { redriven: result.redriven };
  return c.json(body, 202);
};
