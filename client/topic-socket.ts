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
        const { after, epoch } = channel.position();
        // Several events per frame where the server has them together: fewer frames to parse in catch-up.
        const query: Record<string, string> = { after: String(after), batch: "true" };
        if (channel.types && channel.types.length > 0) query.types = channel.types.join(",");
        if (epoch !== undefined) query.epoch = epoch;
        return query;
      },
      events: {
        open: () => channel.opened(),
        frame: (frame) => {
          if (frame.type === "subscribed" || frame.type === "unsubscribed" || isPresenceFrame(frame)) return;
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
