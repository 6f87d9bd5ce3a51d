import { MeshConnection } from "./mesh-connection.ts";
import type { PresenceChannel, PresenceLink } from "./presence.ts";
import type { ConnectionSettings, TokenSource, TopicChannel, Transport } from "./transport.ts";

/**
 * A client's shared connections. A socket runs on one credential, so there is one per token
 * source (the client's, or a subscription's own); and it follows a topic once, so a second
 * subscription of a topic already followed gets the next connection of that source.
 */
export class ConnectionPool {
  private readonly bySource = new Map<TokenSource | undefined, MeshConnection[]>();

  constructor(private readonly settings: ConnectionSettings) {}

  attach(channel: TopicChannel, token: TokenSource | undefined): Transport {
    return this.pick(token, (candidate) => !candidate.carries(channel.topic)).add(channel);
  }

  /** A topic's presence rides on the source's connection that does not follow it yet. */
  attachPresence(channel: PresenceChannel, token: TokenSource | undefined): PresenceLink {
    return this.pick(token, (candidate) => !candidate.carriesPresence(channel.topic)).addPresence(channel);
  }

  private pick(token: TokenSource | undefined, fits: (connection: MeshConnection) => boolean): MeshConnection {
    const connections = this.bySource.get(token) ?? [];
    this.bySource.set(token, connections);
    let connection = connections.find(fits);
    if (!connection) {
      connection = new MeshConnection(this.settings, token, (idle) => this.forget(token, idle));
      connections.push(connection);
    }
    return connection;
  }

  /** The connection a client's publishes ride on: the source's first one, or a new one that closes once idle. */
  publisher(token: TokenSource | undefined): MeshConnection {
    const connections = this.bySource.get(token) ?? [];
    this.bySource.set(token, connections);
    if (connections.length === 0) {
      connections.push(new MeshConnection(this.settings, token, (idle) => this.forget(token, idle)));
    }
    return connections[0];
  }

  /** The client closed: every connection lets go once its topics are gone, refusing unanswered publishes. */
  close(): void {
    for (const connections of [...this.bySource.values()]) {
      for (const connection of [...connections]) connection.close();
    }
  }

  private forget(token: TokenSource | undefined, idle: MeshConnection): void {
    const connections = (this.bySource.get(token) ?? []).filter((connection) => connection !== idle);
    if (connections.length > 0) this.bySource.set(token, connections);
    else this.bySource.delete(token);
  }
}
