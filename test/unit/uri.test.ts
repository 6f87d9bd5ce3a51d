import { describe, expect, it } from "vitest";
import { ABSOLUTE_URI_PATTERN, URI_REFERENCE_PATTERN } from "../../protocol/uri.ts";

describe("URI_REFERENCE_PATTERN (RFC 3986 section 4.1)", () => {
  it.each([
    // The CloudEvents spec's own source examples.
    "https://github.com/cloudevents",
    "mailto:cncf-wg-serverless@lists.cncf.io",
    "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66",
    "/cloudevents/spec/pull/123",
    "1-555-123-4567",
    // Every hier-part and relative-part form.
    "orders",
    "/x",
    "//host/path",
    "//host",
    "https://a.example/c?d=1#e",
    "urn:event-mesh:publisher",
    "x:",
    "./a:b",
    "?only=query",
    "#only-fragment",
    "",
    // Authority details: userinfo, empty port, IPv4, IPv6 and IPvFuture literals.
    "https://user:pw@host:/x",
    "http://192.168.0.1:80/",
    "https://[::1]:8080/x",
    "http://[2001:db8::7]/c=GB?objectClass?one",
    "http://[::ffff:192.0.2.128]/",
    "http://[1:2:3:4:5:6:7:8]/",
    "http://[v1.fe:x]/",
    // Percent-encoding, sub-delims and "?" and "/" inside query and fragment.
    "/with%20space",
    "/caf%C3%A9",
    "/a;b=c,d!$&'()*+",
    "x:/p?q=/a?b#/f?g",
  ])("accepts %j", (uri) => {
    expect(URI_REFERENCE_PATTERN.test(uri)).toBe(true);
  });

  it.each([
    "not a uri %%",
    "::::",
    ":x",
    "/bad%zz",
    "/bad%2",
    "%",
    "a b",
    "/trailing ",
    "x:y z",
    "/café",
    "/line\nbreak",
    'say"hi"',
    "<x>",
    "/a{b}",
    "a|b",
    "x:/p#frag#again",
    "http://h:80a/",
    "http://[::1/x",
    "http://[1:2:3:4:5:6:7:8:9]/",
    "http://[::ffff:256.1.1.1]/",
    "http://[12345::]/",
    "1x://host",
  ])("refuses %j", (uri) => {
    expect(URI_REFERENCE_PATTERN.test(uri)).toBe(false);
  });

  // Backtracking blow-ups would take seconds or hang on these; linear matching takes milliseconds.
  it("stays linear on long hostile input (the event size limit is 64 KiB)", () => {
    const long = ["/a".repeat(32_000), "a:".repeat(32_000), `//${"a:".repeat(32_000)}@host`, "%41".repeat(21_000)];
    const started = performance.now();
    for (const body of long) {
      expect(URI_REFERENCE_PATTERN.test(body)).toBe(true);
      expect(URI_REFERENCE_PATTERN.test(`${body} `)).toBe(false);
    }
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe("ABSOLUTE_URI_PATTERN (RFC 3986 section 4.3, CloudEvents' URI type)", () => {
  it.each(["https://x/s.json", "urn:x:y", "https://example.com/schemas/v1?rev=2", "tag:example.com,2026:s", "x:"])(
    "accepts %j",
    (uri) => {
      expect(ABSOLUTE_URI_PATTERN.test(uri)).toBe(true);
    },
  );

  it.each([
    "::::",
    "/relative",
    "relative/path",
    "//host/no-scheme",
    "x y",
    "",
    "1x:y",
    // absolute-URI has no fragment.
    "https://x/s.json#/definitions/a",
  ])("refuses %j", (uri) => {
    expect(ABSOLUTE_URI_PATTERN.test(uri)).toBe(false);
  });
});
