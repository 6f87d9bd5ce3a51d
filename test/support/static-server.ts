import { type LocalHttp, startLocalHttp } from "./local-http.ts";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

/** Serves in-memory files (path → content) on 127.0.0.1, for pages a browser test loads. */
export function serveFiles(files: Record<string, string>): Promise<LocalHttp> {
  return startLocalHttp(
    async (req, res) => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      const body = files[path];
      if (body === undefined) {
        res.writeHead(404, { "content-type": "text/plain" }).end("not found");
        return;
      }
      const type = TYPES[path.slice(path.lastIndexOf("."))] ?? TYPES[".html"];
      res.writeHead(200, { "content-type": type, "cache-control": "no-store" }).end(body);
    },
    (_err, res) => res.destroy(),
  );
}
