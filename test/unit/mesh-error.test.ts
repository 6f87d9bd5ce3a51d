import { describe, expect, it, vi } from "vitest";
import { errorResponse, MeshError, OVERLOAD_RETRY_SECONDS, toMeshError } from "../../runtime/mesh-error.ts";

describe("errors turned into answers", () => {
  it("answers a Durable Object the runtime marks overloaded or retryable with 503 and Retry-After", async () => {
    for (const flag of ["overloaded", "retryable"]) {
      const runtimeError = Object.assign(new Error("Durable Object is overloaded. Too many requests queued."), {
        [flag]: true,
      });
      const res = errorResponse(runtimeError);
      expect(res.status, flag).toBe(503);
      expect(res.headers.get("retry-after")).toBe(String(OVERLOAD_RETRY_SECONDS));
      expect(await res.json()).toMatchObject({
        error: { code: "overloaded", retryAfterSeconds: OVERLOAD_RETRY_SECONDS },
      });
    }
  });

  it("keeps a MeshError as it is and hides anything else behind a logged 500", async () => {
    const refusal = new MeshError("forbidden", "no");
    expect(toMeshError(refusal)).toBe(refusal);
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const res = errorResponse(new TypeError("x is undefined"));
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { code: "internal", message: "internal error" } });
    expect(logged).toHaveBeenCalledOnce();
    logged.mockRestore();
  });
});
