/**
 * The runtime's HTTP ceiling: reads and parses the publish body like the mesh's Worker does, then
 * answers at once. No validation, no Durable Object, no storage.
 */
export default {
  async fetch(request: Request): Promise<Response> {
    if (request.method !== "POST") return new Response("POST only", { status: 405 });
    const value: unknown = JSON.parse(await request.text());
    const count = Array.isArray(value) ? value.length : 1;
    return new Response(`{"events":${count}}`, { status: 201, headers: { "content-type": "application/json" } });
  },
};
