/** The route pattern (`/v1/batch/:id`) of a request, never the raw path (ids would explode metric labels). */
export function routeOf(r: { route?: { path?: unknown }; baseUrl?: string }): string {
  const path = r.route?.path;
  return typeof path === 'string' ? `${r.baseUrl ?? ''}${path}` : r.baseUrl || 'unmatched';
}
