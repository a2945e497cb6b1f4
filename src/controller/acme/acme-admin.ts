// Controller admin API for ACME (operations.md §3.1): POST /api/v1/services/acme/{namespace}/{name}/trigger
// queues an immediate check (and issuance when needed) of one EdgionAcme.

import { json, notFound, type AdminHandler } from '../../shared/admin-http.js';
import { errorBody, ErrorCodes } from '../../shared/errors.js';
import type { AcmeService } from './acme-service.js';

export function acmeAdminHandler(service: AcmeService): AdminHandler {
  return (req) => {
    const [a, b, c, d, ns, name, action] = req.segments;
    if (a !== 'api' || b !== 'v1' || c !== 'services' || d !== 'acme') return undefined;
    if (!ns || !name || action !== 'trigger' || req.segments.length !== 7) return notFound('use POST /api/v1/services/acme/{namespace}/{name}/trigger');
    if (req.method !== 'POST') return { status: 405, body: errorBody(ErrorCodes.METHOD_NOT_ALLOWED, 'use POST') };
    if (!service.trigger(ns, name)) return notFound(`EdgionAcme ${ns}/${name} not found`);
    return json(202, { triggered: `${ns}/${name}`, message: `ACME check triggered for ${ns}/${name}` });
  };
}

/** Tries each handler in turn; the first answer wins. */
export function firstHandler(...handlers: AdminHandler[]): AdminHandler {
  return async (req) => {
    for (const h of handlers) {
      const r = await h(req);
      if (r !== undefined) return r;
    }
    return undefined;
  };
}
