// Floor for the callback ack benchmark: POST /write?id=<id> stores the request body as one row in
// the Durable Object named <id> (a new object for every new id) and answers 200 once the write
// is durable. The object uses the fetch() interface, so no `cloudflare:workers` import is needed
// and the file typechecks with the Node-side config (types are declared here, minimal).

interface SqlStorage {
  exec(query: string, ...bindings: unknown[]): unknown;
}
interface DurableObjectState {
  storage: { sql: SqlStorage };
}
interface ObjectNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(request: Request): Promise<Response> };
}
interface Env {
  OBJECTS: ObjectNamespace;
}

export class FloorObject {
  private readonly state: DurableObjectState;

  constructor(state: DurableObjectState) {
    this.state = state;
  }

  async fetch(request: Request): Promise<Response> {
    const sql = this.state.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS writes (at INTEGER NOT NULL, body TEXT NOT NULL)");
    sql.exec("INSERT INTO writes (at, body) VALUES (?, ?)", Date.now(), await request.text());
    return new Response("ok");
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const id = url.searchParams.get("id");
    if (url.pathname === "/healthz") return Response.json({ ok: true });
    if (request.method !== "POST" || url.pathname !== "/write" || !id) {
      return new Response("POST /write?id=<object name>\n", { status: 404 });
    }
    const stub = env.OBJECTS.get(env.OBJECTS.idFromName(id));
    await (await stub.fetch(new Request("http://object/write", { method: "POST", body: await request.text() }))).text();
    return Response.json({ code: 200, msg: "success" });
  },
};
