import type { Operation } from "../../protocol/auth.ts";
import type { SocketCredential } from "../../protocol/socket-credential.ts";

/** Who is calling: a publisher key, a subscriber token, or nobody on a public topic. */
export interface Principal {
  kind: "key" | "token" | "public";
  /** Key id, token id (jti), or "public". */
  id: string;
  topics: string[];
  ops: readonly Operation[];
  /** A subscriber token's id, subject, scope and expiry, enforced on the sockets it opens. */
  credential?: SocketCredential;
}
