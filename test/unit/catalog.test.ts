import { describe, expect, it } from "vitest";
import { checkData, isCatalogType } from "../../protocol/catalog.ts";
import { testCatalog } from "../support/test-catalog.ts";

const user = { userId: "u-1", name: "Ada Lovelace", email: "ada@example.com" };

describe("event catalog", () => {
  it("knows its types and only its own keys", () => {
    expect(isCatalogType(testCatalog, "MemberJoined")).toBe(true);
    expect(isCatalogType(testCatalog, "Nope")).toBe(false);
    expect(isCatalogType(testCatalog, "toString")).toBe(false);
  });

  it("accepts data that matches the type's schema", () => {
    expect(checkData(testCatalog, "MemberJoined", user, "reject")).toEqual({ ok: true });
  });

  it("refuses a mismatch with valibot's issues, each with its path", () => {
    const result = checkData(testCatalog, "MemberJoined", { userId: "", name: "  ", email: "not-an-email" }, "accept");
    expect(result).toMatchObject({ ok: false, code: "schema_mismatch" });
    if (result.ok) return;
    expect(result.message).toBe("data does not match the schema of MemberJoined: userId must not be empty");
    expect(result.issues).toEqual([
      { path: "userId", message: "userId must not be empty" },
      { path: "name", message: "name is required" },
      { path: "email", message: "email must be a valid address" },
    ]);
  });

  it("refuses missing data for a known type", () => {
    expect(checkData(testCatalog, "MemberJoined", undefined, "accept")).toMatchObject({
      ok: false,
      code: "schema_mismatch",
    });
  });

  it("refuses a missing field, naming it", () => {
    const result = checkData(testCatalog, "MemberJoined", { userId: "u-1", name: "Ada" }, "accept");
    expect(result).toMatchObject({ ok: false, issues: [{ path: "email" }] });
  });

  it("accepts an unknown type under the accept policy, whatever its data", () => {
    expect(checkData(testCatalog, "SomethingElse", { anything: [1, 2] }, "accept")).toEqual({ ok: true });
  });

  it("refuses an unknown type under the reject policy", () => {
    expect(checkData(testCatalog, "SomethingElse", {}, "reject")).toEqual({
      ok: false,
      code: "unknown_event_type",
      message: 'event type "SomethingElse" is not in the catalog',
    });
  });
});
