import { MeshError } from "../runtime/mesh-error.ts";

/** Reads a JSON request body for the management routes; refuses other content types and bad JSON. */
export async function readJsonBody(request: Request): Promise<unknown> {
  const media = (request.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (media !== "application/json") {
    throw new MeshError(
      "unsupported_media_type",
      `content type "${media || "(none)"}" is not supported: use application/json`,
    );
  }
  const text = await request.text();
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new MeshError("malformed_json", `the body is not valid JSON: ${(err as Error).message}`);
  }
}
