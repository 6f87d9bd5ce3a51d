import type { Catalog } from "../protocol/catalog.ts";

/**
 * The app's event catalog, for the mesh's Durable Objects. The app hands its catalog to
 * `createMesh`, which the Worker module calls as it loads; the objects are classes of that same
 * module graph and run in its isolate, so by the time one takes a socket's `publish` frame the
 * catalog is registered here. No catalog registered means none: types follow UNKNOWN_EVENT_TYPES.
 */
let registered: Catalog = {};

export function registerAppCatalog(catalog: Catalog): void {
  registered = catalog;
}

export function appCatalog(): Catalog {
  return registered;
}
