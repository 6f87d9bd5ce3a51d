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

/** The vars every test server runs with: auth on with the test keys; webhooks may reach receivers on this machine. */
export const TEST_SERVER_VARS = {
  MESH_KEYS: JSON.stringify(Object.values(KEYS)),
  MESH_TOKEN_SECRET: TOKEN_SECRET,
  WEBHOOK_ALLOWED_HOSTS: "127.0.0.1,localhost",
};

/** `Authorization` header with the all-scope admin key. */
export const ADMIN_AUTH = { authorization: `Bearer ${KEYS.admin.secret}` };
