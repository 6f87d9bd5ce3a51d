import fc from "fast-check";
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

/** Private IPv4 ranges as [first byte, second byte or null, prefix length]. */
const PRIVATE_V4: [number[], number][] = [
  [[0], 8],
  [[10], 8],
  [[127], 8],
  [[100, 64], 10],
  [[169, 254], 16],
  [[172, 16], 12],
  [[192, 168], 16],
  [[198, 18], 15],
  [[192, 0, 0], 24],
  [[192, 0, 2], 24],
  [[203, 0, 113], 24],
  [[224], 4],
  [[240], 4],
];

/** An address inside a range: the prefix's bits kept, the rest random. */
const inRange = ([prefix, length]: [number[], number]) =>
  fc
    .tuple(
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 255 }),
    )
    .map((random) => {
      const value = random.reduce((n, b) => n * 256 + b, 0);
      const base = [...prefix, 0, 0, 0, 0].slice(0, 4).reduce((n, b) => n * 256 + b, 0);
      const hostBits = 2 ** (32 - length);
      const address = base - (base % hostBits) + (value % hostBits);
      return [address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255];
    });

const privateV4 = fc.oneof(...PRIVATE_V4.map(inRange));
const publicV4 = fc.oneof(
  inRange([[8], 8]),
  inRange([[93, 184], 16]),
  inRange([[104, 16], 12]),
  inRange([[1, 1, 1], 24]),
);

const radix = fc.constantFrom("dec", "oct", "hex", "HEX");
function number(n: number, style: string): string {
  if (style === "oct") return `0${n.toString(8)}`;
  if (style === "hex") return `0x${n.toString(16)}`;
  if (style === "HEX") return `0X${n.toString(16).toUpperCase()}`;
  return String(n);
}

/** Every way the URL parser accepts to write one IPv4 address. */
const v4Spelling = (bytes: fc.Arbitrary<number[]>) =>
  fc
    .record({
      bytes,
      parts: fc.constantFrom(1, 2, 3, 4),
      styles: fc.array(radix, { minLength: 4, maxLength: 4 }),
      trailingDot: fc.boolean(),
      fullWidth: fc.boolean(),
      percent: fc.boolean(),
    })
    .map(({ bytes: [a, b, c, d], parts, styles, trailingDot, fullWidth, percent }) => {
      const numbers =
        parts === 4
          ? [a, b, c, d]
          : parts === 3
            ? [a, b, c * 256 + d]
            : parts === 2
              ? [a, b * 65536 + c * 256 + d]
              : [((a * 256 + b) * 256 + c) * 256 + d];
      let text = numbers.map((n, i) => number(n, styles[i])).join(".") + (trailingDot ? "." : "");
      // Full-width digits and dots, and percent-encoding, are folded to ASCII by the host parser.
      if (fullWidth)
        text = text.replace(/[0-9]/g, (ch) => String.fromCharCode(0xff10 + Number(ch))).replace(/\./g, "。");
      else if (percent) text = text.replace(/[0-9]/, (ch) => `%3${ch}`);
      return { text, canonical: `${a}.${b}.${c}.${d}` };
    });

const hex4 = (n: number) => n.toString(16);
const groupsOf = (bytes: number[]) => Array.from({ length: 8 }, (_, i) => bytes[2 * i] * 256 + bytes[2 * i + 1]);

/** IPv6 addresses that reach a private place: loopback, unique local, link-local, multicast, and IPv4 inside. */
const privateV6: fc.Arbitrary<number[]> = fc.oneof<fc.Arbitrary<number[]>[]>(
  fc.constant(Array(15).fill(0).concat(1)),
  fc
    .array(fc.integer({ min: 0, max: 255 }), { minLength: 16, maxLength: 16 })
    .chain((b) =>
      fc.constantFrom(
        [0xfd, ...b.slice(1)],
        [0xfc, ...b.slice(1)],
        [0xfe, 0x80 | (b[1] & 0x3f), ...b.slice(2)],
        [0xff, ...b.slice(1)],
      ),
    ),
  privateV4.chain((v4) =>
    fc.constantFrom<number[]>(
      [...Array(10).fill(0), 0xff, 0xff, ...v4],
      [...Array(12).fill(0), ...v4],
      [0, 0x64, 0xff, 0x9b, ...Array(8).fill(0), ...v4],
      [0x20, 0x02, ...v4, ...Array(10).fill(0)],
    ),
  ),
);

/** Full, zero-padded, upper-case or compressed, with the last 32 bits as dotted IPv4 or not. */
const v6Spelling = fc
  .record({
    bytes: privateV6,
    pad: fc.boolean(),
    upper: fc.boolean(),
    compress: fc.boolean(),
    dottedTail: fc.boolean(),
  })
  .map(({ bytes, pad, upper, compress, dottedTail }) => {
    const groups = groupsOf(bytes).map((g) => (pad ? hex4(g).padStart(4, "0") : hex4(g)));
    let text = groups.join(":");
    if (dottedTail) text = `${groups.slice(0, 6).join(":")}:${bytes.slice(12).join(".")}`;
    if (compress) text = text.replace(/(^|:)0{1,4}(:0{1,4})+(:|$)/, "::");
    if (upper) text = text.toUpperCase();
    return { text: `[${text}]`, canonical: new URL(`http://[${groupsOf(bytes).map(hex4).join(":")}]/`).hostname };
  });

const localName = fc
  .record({
    name: fc.constantFrom(
      "localhost",
      "api.localhost",
      "printer.local",
      "metadata.google.internal",
      "nas.lan",
      "router.home.arpa",
      "metadata",
      "intranet",
    ),
    upper: fc.boolean(),
    trailingDot: fc.boolean(),
  })
  .map(({ name, upper, trailingDot }) => (upper ? name.toUpperCase() : name) + (trailingDot ? "." : ""));

describe("webhook url policy against generated spellings", () => {
  it("refuses every spelling of a private, loopback, link-local or reserved IPv4 address", () => {
    fc.assert(
      fc.property(v4Spelling(privateV4), fc.constantFrom("http", "https"), ({ text, canonical }, scheme) => {
        const url = `${scheme}://${text}:8443/hook`;
        expect(new URL(url).hostname).toBe(canonical);
        expect(checkWebhookUrl(url)).toMatchObject({ ok: false });
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses every spelling of a private IPv6 address, IPv4 ones inside IPv6 included", () => {
    fc.assert(
      fc.property(v6Spelling, ({ text, canonical }) => {
        const url = `http://${text}/hook`;
        expect(new URL(url).hostname).toBe(canonical);
        expect(checkWebhookUrl(url)).toMatchObject({ ok: false });
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses local-only and metadata names however they are written", () => {
    fc.assert(
      fc.property(localName, (name) => {
        expect(checkWebhookUrl(`http://${name}/hook`)).toMatchObject({ ok: false });
      }),
    );
  });

  it("accepts every spelling of a public address", () => {
    fc.assert(
      fc.property(v4Spelling(publicV4), ({ text, canonical }) => {
        const url = `https://${text}/hook`;
        expect(new URL(url).hostname).toBe(canonical);
        expect(checkWebhookUrl(url)).toEqual({ ok: true });
      }),
      { numRuns: 1000 },
    );
  });
});
