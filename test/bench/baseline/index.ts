// Baseline for the ingest benchmark: POST /put?url=<wav>&key=<key> streams the source's body
// straight into R2 with a single put. Nothing else: no checks, no hashing, no state. R2 needs
// the body's length up front, so this works only for sources that send Content-Length.
//
// Types are declared here (not from @cloudflare/workers-types) so the file typechecks with the
// Node-side test config; the runtime objects are the Workers ones.

interface Env {
  BUCKET: { put(key: string, value: ReadableStream | null): Promise<{ size: number } | null> };
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const source = url.searchParams.get("url");
    const key = url.searchParams.get("key");
    if (request.method !== "POST" || url.pathname !== "/put" || !source || !key) {
      return new Response("POST /put?url=<wav url>&key=<r2 key>\n", { status: 404 });
    }
    const started = Date.now();
    const object = await env.BUCKET.put(key, (await fetch(source)).body);
    return Response.json({ key, size: object?.size ?? null, ms: Date.now() - started });
  },
};
