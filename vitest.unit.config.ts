import { defineConfig } from "vitest/config";

/** Pure modules in Node: protocol parsers and schemas, backoff, delivery planning. */
export default defineConfig({
  test: {
    name: "unit",
    include: ["test/unit/**/*.test.ts"],
    environment: "node",
  },
});
