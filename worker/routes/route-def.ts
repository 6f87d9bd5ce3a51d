import type { Handler, MiddlewareHandler } from "hono";
import type * as v from "valibot";
import type { Operation } from "../../protocol/auth.ts";
import type { ErrorCode } from "../../protocol/error-codes.ts";
import type { AppEnv } from "../app-env.ts";

/**
 * What a route needs of its caller. `public` routes take no credential; every other route names
 * the operation its credential must allow, on the route's `:topic` when `topic` is set.
 */
export type RouteAccess =
  | { readonly public: true }
  | {
      readonly op: Operation;
      /** The operation is checked on the topic of the path, not on the deployment. */
      readonly topic?: true;
      /** Browsers cannot set headers on a WebSocket: the token may come as `?token=`. */
      readonly tokenInQuery?: true;
      readonly rateLimit?: "publish" | "mint";
    };

export type RouteMethod = "GET" | "POST" | "PUT" | "DELETE";

/** The statuses a route answers with when it does what was asked. */
export type SuccessStatus = 101 | 200 | 201 | 202 | 204;

/** One answer of a route: what it means and, unless it has no body (101, 204), the schema of its JSON body. */
export interface RouteResponse {
  readonly description: string;
  readonly body?: v.GenericSchema;
}

/** Every success answer of a route, by status: at least one, so no route goes undocumented. */
export type RouteResponses = {
  [S in SuccessStatus]: { readonly [K in S]: RouteResponse } & {
    readonly [K in Exclude<SuccessStatus, S>]?: RouteResponse;
  };
}[SuccessStatus];

/** A request body: the schema of what it holds under each content type it is read in. */
export interface RouteBody {
  readonly required: boolean;
  readonly content: { readonly [mediaType: string]: v.GenericSchema };
}

/** One route of the HTTP API: the only place its path, method, policy and description are written. */
export interface RouteDef {
  readonly method: RouteMethod;
  readonly path: string;
  /** Names the operation, unique in the table: generated clients name their methods after it. */
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly access: RouteAccess;
  /** The schema of each `:param` of the path, by name. */
  readonly params?: { readonly [name: string]: v.GenericSchema };
  /** The object schema the route reads its query with (string values, as they arrive). */
  readonly query?: v.GenericSchema;
  readonly body?: RouteBody;
  readonly responses: RouteResponses;
  /**
   * The refusals the route's own checks give. Those of its access checks (`accessRefusals`) and
   * `internal` (any unexpected failure) come on top; each code's status is in `ERROR_STATUS`.
   */
  readonly refusals: readonly ErrorCode[];
  /** Runs after the access check, before the handler (body limits). */
  readonly middleware?: readonly MiddlewareHandler<AppEnv>[];
  readonly handler: Handler<AppEnv>;
}

/** The `:param` names of a path. */
type PathParams<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Name | PathParams<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? Name
    : never;

/** A route whose `params` name exactly the `:params` of its path, a schema each. */
type RouteOf<P extends string> = Omit<RouteDef, "path" | "params"> & { readonly path: P } & ([PathParams<P>] extends [
    never,
  ]
    ? { readonly params?: undefined }
    : { readonly params: { readonly [name in PathParams<P>]: v.GenericSchema } });

/** Declares a route; the compiler checks that every `:param` of its path has a schema. */
export const route = <const P extends string>(def: RouteOf<P>): RouteDef => def;

const METHOD_ORDER: readonly RouteMethod[] = ["GET", "POST", "PUT", "DELETE"];

/** Each declared path (in table order) with the methods it takes, for 405 answers and their `Allow`. */
export function allowedMethods(routes: readonly RouteDef[]): Map<string, RouteMethod[]> {
  const byPath = new Map<string, RouteMethod[]>();
  for (const route of routes) byPath.set(route.path, [...(byPath.get(route.path) ?? []), route.method]);
  for (const [path, methods] of byPath)
    byPath.set(
      path,
      METHOD_ORDER.filter((m) => methods.includes(m)),
    );
  return byPath;
}
