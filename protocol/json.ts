import * as v from "valibot";

/**
 * JSON values as an interface-based recursive type: a type alias recursion hits TS2589, and
 * `unknown` in a Durable Object RPC return type becomes `never` at the caller.
 */
export type JsonPrimitive = string | number | boolean | null;
export interface JsonObject {
  [key: string]: JsonValue;
}
export interface JsonArray extends Array<JsonValue> {}
export type JsonValue = JsonPrimitive | JsonObject | JsonArray;

/**
 * Any JSON value, taken as it is (it comes out of a JSON text, so it is JSON): typed `JsonValue`
 * rather than `unknown` so that shapes holding it can cross Durable Object RPC.
 */
export const JsonValueSchema = v.pipe(
  v.unknown(),
  v.transform((value) => value as JsonValue),
);
