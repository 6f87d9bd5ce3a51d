// wrangler offline and quiet, for every script and test server that runs it: no metrics, no
// download of cf.json (without this flag wrangler fetches it from the internet and warns when it
// cannot), no banner. With all three, wrangler makes only loopback connections.
export const QUIET_WRANGLER_ENV = {
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
};
