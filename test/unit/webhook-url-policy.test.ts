import { describe, expect, it } from "vitest";
import { allowedWebhookHosts, checkWebhookUrl } from "../../worker/webhook-url-policy.ts";

describe("webhook url policy", () => {
  it.each([
    "http://127.0.0.1/x",
    "http://127.8.9.10/x",
    "http://10.1.2.3/x",
    "http://172.16.0.1/x",
    "http://172.31.255.255/x",
    "http://192.168.1.1/x",
    "http://169.254.169.254/latest/meta-data",
    "http://100.64.0.1/x",
    "http://0.0.0.0/x",
    "http://[::1]/x",
    "http://[fd00::1]/x",
    "http://[fe80::1]/x",
    "http://[::ffff:127.0.0.1]/x",
    "http://localhost:8080/x",
    "http://printer.local/x",
    "http://api.internal/x",
  ])("refuses %s", (url) => {
    expect(checkWebhookUrl(url)).toMatchObject({ ok: false });
  });

  it.each(["https://example.com/hook", "http://93.184.216.34/x", "http://172.32.0.1/x", "http://[2606:4700::1]/x"])(
    "accepts %s",
    (url) => {
      expect(checkWebhookUrl(url)).toEqual({ ok: true });
    },
  );

  it("refuses other schemes and embedded credentials", () => {
    expect(checkWebhookUrl("ftp://example.com/x")).toMatchObject({ ok: false });
    expect(checkWebhookUrl("https://user:pw@example.com/x")).toMatchObject({ ok: false });
  });

  it("lets the allow list through", () => {
    const allowed = allowedWebhookHosts(" 127.0.0.1, localhost ,[::1]");
    expect(allowed).toEqual(["127.0.0.1", "localhost", "::1"]);
    for (const url of ["http://127.0.0.1:9999/x", "http://localhost/x", "http://[::1]/x"]) {
      expect(checkWebhookUrl(url, allowed)).toEqual({ ok: true });
    }
    expect(checkWebhookUrl("http://10.0.0.1/x", allowed)).toMatchObject({ ok: false });
  });
});
