import type { KeyConfig } from "../../protocol/auth.ts";

/**
 * Test credentials, shared by the workers-pool config (as the MESH_KEYS and MESH_TOKEN_SECRET
 * bindings), the e2e servers and the tests that present them.
 */
export const TOKEN_SECRET = "test-token-secret-0123456789abcdef0123456789";

export const KEYS = {
  admin: {
    id: "test-admin",
    secret: "sk_test_admin_0123456789abcdef0123456789",
    topics: ["*"],
    ops: ["publish", "history", "subscribe", "mint", "admin"],
  },
  usersPublisher: {
    id: "users-publisher",
    secret: "sk_test_users_publisher_0123456789abcdef",
    topics: ["users"],
    ops: ["publish"],
  },
  reader: { id: "reader", secret: "sk_test_reader_0123456789abcdef01234567", topics: ["*"], ops: ["history"] },
  notificationsMinter: {
    id: "notifications-minter",
    secret: "sk_test_minter_0123456789abcdef012345678",
    topics: ["notifications.*"],
    ops: ["mint"],
  },
} satisfies Record<string, KeyConfig>;

const MESH_KEYS_JSON = JSON.stringify(Object.values(KEYS));

/** The variables that turn auth on in a test server. */
export const AUTH_VARS = { MESH_KEYS: MESH_KEYS_JSON, MESH_TOKEN_SECRET: TOKEN_SECRET };

/** `Authorization` header with the all-scope admin key. */
export const ADMIN_AUTH = { authorization: `Bearer ${KEYS.admin.secret}` };
