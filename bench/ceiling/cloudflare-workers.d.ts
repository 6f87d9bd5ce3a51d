/** The one export of the runtime's module the ceiling uses (this folder is type-checked with DOM types, not Workers types). */
declare module "cloudflare:workers" {
  export abstract class DurableObject {
    constructor(ctx: unknown, env: unknown);
  }
}
