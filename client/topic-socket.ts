import { isPresenceFrame } from "./presence-set.ts";
import { SocketDriver } from "./socket-driver.ts";
import type { ConnectionSettings, TokenSource, TopicChannel, Transport } from "./transport.ts";

/**
 * A socket of one topic's own (`/v1/topics/<topic>/ws`): the position rides in the query, which
 * partysocket asks for again before every reconnect, and any trouble replaces the whole socket.
 */
export class TopicSocket implements Transport {
  private readonly driver: SocketDriver;

  constructor(channel: TopicChannel, settings: ConnectionSettings, token: TokenSource | undefined) {
    this.driver = new SocketDriver({
      settings,
      token,
      path: `topics/${channel.topic}/ws`,
      query: async () => {
        await channel.ready;
        const { after, epoch, rewind } = channel.position();
        // Several events per frame where the server has them together: fewer frames to parse in catch-up.
        const query: Record<string, string> = { batch: "true" };
        // A rewind goes only until the server has resolved it; the cursor it resolved to resumes.
        if (rewind && "last" in rewind) query.last = String(rewind.last);
        else if (rewind) query.since = rewind.since;
        else query.after = String(after);
        if (channel.types && channel.types.length > 0) query.types = channel.types.join(",");
        if (channel.filter && channel.filter.length > 0) query.filter = JSON.stringify(channel.filter);
        if (epoch !== undefined && !rewind) query.epoch = epoch;
        return query;
      },
      events: {
        open: () => channel.opened(),
        frame: (frame) => {
          // A one-topic socket is sent `subscribed` only to name where its rewind resolved to.
          if (frame.type === "subscribed" && frame.epoch !== undefined) channel.started(frame.after, frame.epoch);
          if (frame.type === "subscribed" || frame.type === "unsubscribed" || frame.type === "published") return;
          if (isPresenceFrame(frame)) return;
          channel.receive(frame);
        },
        drop: () => channel.dropped(),
        terminal: (error) => channel.fail(error),
        report: (error) => channel.report(error),
      },
    });
  }

  resync(reason: string): void {
    this.driver.resync(reason);
  }

  reconnect(): void {
    this.driver.reconnect();
  }

  settled(): void {
    this.driver.settled();
  }

  close(): void {
    this.driver.close();
  }
}
