/**
 * The demo's test secrets: the mesh's keys (an operator's admin key and the two services' scoped
 * keys, as `npm start` writes them to demo/.dev.vars) and the demo's own secrets. The workers-pool
 * config binds them; the browser test passes them to its local server.
 */
const key = (id: string, topics: string[], ops: string[], secret: string) => ({ id, secret, topics, ops });

export const DEMO_KEYS = {
  operator: key(
    "operator",
    ["*"],
    ["publish", "history", "subscribe", "mint", "admin"],
    "sk_test_operator_0123456789abcdef0123456789",
  ),
  users: key("demo-users", ["users"], ["publish", "history", "admin"], "sk_test_demo_users_0123456789abcdef012345"),
  notifications: key(
    "demo-notifications",
    ["notifications.*"],
    ["publish", "mint"],
    "sk_test_demo_notifications_0123456789abcdef",
  ),
};

export const DEMO_VARS = {
  MESH_KEYS: JSON.stringify(Object.values(DEMO_KEYS)),
  MESH_TOKEN_SECRET: "test-demo-token-secret-0123456789abcdef0123456789",
  DEMO_USERS_KEY: DEMO_KEYS.users.secret,
  DEMO_NOTIFICATIONS_KEY: DEMO_KEYS.notifications.secret,
  DEMO_COOKIE_SECRET: "test-demo-cookie-secret-0123456789abcdef0123456789",
};

/** `Authorization` header with the operator's admin key. */
export const OPERATOR_AUTH = { authorization: `Bearer ${DEMO_KEYS.operator.secret}` };
