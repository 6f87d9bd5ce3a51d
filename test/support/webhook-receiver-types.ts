/** How one receiver endpoint answers: scripted failures let tests drive retries and dead letters. */
export interface EndpointBehaviour {
  /** When set, each request is verified with the `standardwebhooks` package; unverified ones get 401. */
  secret?: string;
  /** Answer the next N requests with `failStatus`. */
  failNext?: number;
  /** Answer every request that carries one of these seqs with `failStatus`. */
  failSeqs?: number[];
  /** Answer every request with `failStatus` until changed. */
  failAll?: boolean;
  failStatus?: number;
  /** Wait this long before answering (to make the sender time out). */
  delayMs?: number;
}

/** One request as the receiver saw it. */
export interface ReceivedRequest {
  webhookId: string | null;
  timestamp: string | null;
  attempt: string | null;
  traceparent: string | null;
  /** True when `standardwebhooks` verified the signature (only checked when a secret is set). */
  verified: boolean;
  status: number;
  seqs: number[];
  body: { topic?: string; subscription?: string; events?: { seq: number; id: string; type: string }[] };
}
