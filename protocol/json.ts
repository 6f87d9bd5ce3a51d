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
