import type { Context, Handler } from "hono";
import {
  DEAD_LETTER_LIST_LIMITS,
  type DeadLetterList,
  DeadLetterListQuerySchema,
  RedriveBodySchema,
  type RedriveResponse,
} from "../../protocol/dead-letter-api.ts";
import { DEAD_LETTER_ID_FORMS, type DeadLetterRef, parseDeadLetterId } from "../../protocol/dead-letter-id.ts";
import { MeshError } from "../../runtime/mesh-error.ts";
import type { AppEnv } from "../app-env.ts";
import { scopeOf } from "../auth/access.ts";
import { decodeCursor, listAnswer } from "../dead-letters/paging.ts";
import { deleteDeadLetter, getDeadLetter, listDeadLetters, redriveDeadLetters } from "../dead-letters/sources.ts";
import { readJsonBody } from "../read-json-body.ts";
import { parseBody, parseQuery } from "../validate.ts";

/** A dead-letter id from the path; one that cannot exist is simply not found. */
function refFromPath(id: string): DeadLetterRef {
  const ref = parseDeadLetterId(id);
  if (ref === null) {
    throw new MeshError("dead_letter_not_found", `"${id}" is not a dead-letter id (${DEAD_LETTER_ID_FORMS})`, { id });
  }
  return ref;
}

/** Refuses, before anything changes, dead letters of topics the credential does not administer. */
async function checkScope(c: Context<AppEnv>, refs: DeadLetterRef[]): Promise<void> {
  const scope = scopeOf(c.get("principal"), "admin");
  if (scope.all) return;
  for (const ref of refs) {
    const topic = ref.kind === "subscription" ? ref.topic : (await getDeadLetter(c.env, ref))?.topic;
    if (topic !== undefined && !scope.covers(topic)) {
      throw new MeshError("forbidden", `this credential does not allow admin on topic "${topic}"`, {
        operation: "admin",
        topic,
      });
    }
  }
}

function notFound(ids: string[]): MeshError {
  return new MeshError("dead_letter_not_found", `no dead letter ${ids.join(", ")}: nothing was redriven`, { ids });
}

/** `GET /v1/dead-letters`: both sources (subscriptions and queue consumers), filtered, a page at a time. */
export const listAllDeadLetters: Handler<AppEnv> = async (c) => {
  const query = parseQuery(DeadLetterListQuerySchema, c.req.url);
  const limit = query.limit ?? DEAD_LETTER_LIST_LIMITS.defaultLimit;
  // A key that administers some topics sees only their dead letters.
  const scope = scopeOf(c.get("principal"), "admin");
  if (query.topic !== undefined && !scope.covers(query.topic)) {
    throw new MeshError("forbidden", `this credential does not allow admin on topic "${query.topic}"`, {
      operation: "admin",
      topic: query.topic,
    });
  }
  const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
  const body: DeadLetterList = listAnswer(await listDeadLetters(c.env, query, after, limit, scope));
  return c.json(body);
};

/** `POST /v1/dead-letters/redrive`: several dead letters by id, all or nothing. */
export const redriveManyDeadLetters: Handler<AppEnv> = async (c) => {
  const ids = [...new Set(parseBody(RedriveBodySchema, await readJsonBody(c.req.raw)).ids)];
  const refs = ids.map((id) => parseDeadLetterId(id));
  const malformed = ids.filter((_, i) => refs[i] === null);
  if (malformed.length > 0) {
    throw new MeshError("invalid_body", `not dead-letter ids (${DEAD_LETTER_ID_FORMS}): ${malformed.join(", ")}`, {
      ids: malformed,
    });
  }
  await checkScope(c, refs as DeadLetterRef[]);
  const missing = await redriveDeadLetters(c.env, refs as DeadLetterRef[]);
  if (missing.length > 0) throw notFound(missing);
  const body: RedriveResponse = { redriven: ids };
  return c.json(body, 202);
};

// `redrive` is not an id: its other methods fall through to the 405 of /v1/dead-letters/redrive.
export const getOneDeadLetter: Handler<AppEnv> = async (c, next) => {
  const id = c.req.param("id") ?? "";
  if (id === "redrive") return next();
  const ref = refFromPath(id);
  await checkScope(c, [ref]);
  const deadLetter = await getDeadLetter(c.env, ref);
  if (deadLetter === null) throw new MeshError("dead_letter_not_found", `no dead letter ${id}`, { id });
  return c.json(deadLetter);
};

export const redriveOneDeadLetter: Handler<AppEnv> = async (c) => {
  const id = c.req.param("id") ?? "";
  const ref = refFromPath(id);
  await checkScope(c, [ref]);
  const missing = await redriveDeadLetters(c.env, [ref]);
  if (missing.length > 0) throw notFound(missing);
  const body: RedriveResponse = { redriven: [id] };
  return c.json(body, 202);
};

export const deleteOneDeadLetter: Handler<AppEnv> = async (c, next) => {
  const id = c.req.param("id") ?? "";
  if (id === "redrive") return next();
  const ref = refFromPath(id);
  await checkScope(c, [ref]);
  if (!(await deleteDeadLetter(c.env, ref))) {
    throw new MeshError("dead_letter_not_found", `no dead letter ${id}`, { id });
  }
  return c.body(null, 204);
};
