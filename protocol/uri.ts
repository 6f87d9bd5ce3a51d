/**
 * RFC 3986 syntax for CloudEvents' `URI-reference` (`source`) and `URI` (`dataschema`) types.
 *
 * Each constant below is one ABNF rule of RFC 3986 appendix A, spelled as a regular-expression
 * fragment so it can be read against the RFC; the two expressions are compiled once, at load.
 * Every repetition is delimited by a character the repeated part cannot contain ("/" between
 * segments, "%" only starting a percent-encoding), so matching stays linear in the input length.
 * The grammar is US-ASCII: spaces, non-ASCII characters and a "%" not followed by two hex digits
 * are refused, as the RFC requires (they must be percent-encoded).
 */

const HEXDIG = "[0-9A-Fa-f]";
const PCT_ENCODED = `%${HEXDIG}{2}`;
const UNRESERVED = "A-Za-z0-9\\-._~";
const SUB_DELIMS = "!$&'()*+,;=";

const PCHAR = `(?:[${UNRESERVED}${SUB_DELIMS}:@]|${PCT_ENCODED})`;
const SEGMENT = `${PCHAR}*`;
const SEGMENT_NZ = `${PCHAR}+`;
// A relative path's first segment has no ":", or it would read as a scheme.
const SEGMENT_NZ_NC = `(?:[${UNRESERVED}${SUB_DELIMS}@]|${PCT_ENCODED})+`;
const QUERY = `(?:[${UNRESERVED}${SUB_DELIMS}:@/?]|${PCT_ENCODED})*`;
const FRAGMENT = QUERY;

const SCHEME = "[A-Za-z][A-Za-z0-9+\\-.]*";

const DEC_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
const IPV4ADDRESS = `${DEC_OCTET}(?:\\.${DEC_OCTET}){3}`;
const H16 = `${HEXDIG}{1,4}`;
const LS32 = `(?:${H16}:${H16}|${IPV4ADDRESS})`;
const IPV6ADDRESS = [
  `(?:${H16}:){6}${LS32}`,
  `::(?:${H16}:){5}${LS32}`,
  `(?:${H16})?::(?:${H16}:){4}${LS32}`,
  `(?:(?:${H16}:){0,1}${H16})?::(?:${H16}:){3}${LS32}`,
  `(?:(?:${H16}:){0,2}${H16})?::(?:${H16}:){2}${LS32}`,
  `(?:(?:${H16}:){0,3}${H16})?::${H16}:${LS32}`,
  `(?:(?:${H16}:){0,4}${H16})?::${LS32}`,
  `(?:(?:${H16}:){0,5}${H16})?::${H16}`,
  `(?:(?:${H16}:){0,6}${H16})?::`,
].join("|");
const IPVFUTURE = `v${HEXDIG}+\\.[${UNRESERVED}${SUB_DELIMS}:]+`;
const IP_LITERAL = `\\[(?:${IPV6ADDRESS}|${IPVFUTURE})\\]`;
// host is IP-literal / IPv4address / reg-name; every IPv4address is also a reg-name, so for a
// yes-or-no check the reg-name branch covers it.
const REG_NAME = `(?:[${UNRESERVED}${SUB_DELIMS}]|${PCT_ENCODED})*`;
const HOST = `(?:${IP_LITERAL}|${REG_NAME})`;
const USERINFO = `(?:[${UNRESERVED}${SUB_DELIMS}:]|${PCT_ENCODED})*`;
const AUTHORITY = `(?:${USERINFO}@)?${HOST}(?::[0-9]*)?`;

const PATH_ABEMPTY = `(?:/${SEGMENT})*`;
const PATH_ABSOLUTE = `/(?:${SEGMENT_NZ}(?:/${SEGMENT})*)?`;
const PATH_NOSCHEME = `${SEGMENT_NZ_NC}(?:/${SEGMENT})*`;
const PATH_ROOTLESS = `${SEGMENT_NZ}(?:/${SEGMENT})*`;
// The trailing "?" of each part is path-empty.
const HIER_PART = `(?://${AUTHORITY}${PATH_ABEMPTY}|${PATH_ABSOLUTE}|${PATH_ROOTLESS})?`;
const RELATIVE_PART = `(?://${AUTHORITY}${PATH_ABEMPTY}|${PATH_ABSOLUTE}|${PATH_NOSCHEME})?`;

const ABSOLUTE_URI = `${SCHEME}:${HIER_PART}(?:\\?${QUERY})?`;
const URI = `${ABSOLUTE_URI}(?:#${FRAGMENT})?`;
const RELATIVE_REF = `${RELATIVE_PART}(?:\\?${QUERY})?(?:#${FRAGMENT})?`;

/** RFC 3986 section 4.1 `URI-reference`: a URI or a relative reference (the empty string included). */
export const URI_REFERENCE_PATTERN = new RegExp(`^(?:${URI}|${RELATIVE_REF})$`);

/** RFC 3986 section 4.3 `absolute-URI`: a scheme, no fragment. CloudEvents' `URI` type is this. */
export const ABSOLUTE_URI_PATTERN = new RegExp(`^${ABSOLUTE_URI}$`);
