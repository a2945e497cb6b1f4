// DebugAccessLogToHeader (plugins.md §4.21): adds the response header X-Debug-Access-Log holding
// the access-log JSON of the request as known at that moment (session.debugAccessLog(): request
// info, route, upstream attempts, ctx variables, plugin stage logs so far). For debugging only:
// it shows what the access log would show to whoever gets the response.
import { Type } from 'typebox';
import { definePlugin, type PluginSession } from '../../runtime/define-plugin.js';

export const DEBUG_HEADER = 'x-debug-access-log';
/** Headers much larger than this break common clients (Node's limit for all headers is 16 KiB). */
export const MAX_DEBUG_HEADER_BYTES = 8192;

/** Header-safe text: JSON with every non-ASCII character escaped (`\uXXXX` keeps it valid JSON). */
function asciiJson(line: string): string {
  return line.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The header value: the line, without stage logs when too long, cut (`…"`) as a last resort. */
export function debugHeaderValue(s: PluginSession): string {
  let v = asciiJson(s.debugAccessLog());
  if (v.length > MAX_DEBUG_HEADER_BYTES) v = v.replace(/,"stage_logs":\[.*\]\}$/, '}');
  if (v.length > MAX_DEBUG_HEADER_BYTES) v = `${v.slice(0, MAX_DEBUG_HEADER_BYTES - 3)}...`;
  return v;
}

export const DebugAccessLogToHeader = definePlugin({
  type: 'DebugAccessLogToHeader',
  // The CRD also allows it in requestPlugins: there it captures the line at that point and the
  // header goes on whatever response the client gets.
  stages: ['upstreamResponseFilterPlugins', 'requestPlugins'],
  schema: Type.Object({}, { additionalProperties: true, description: 'no configuration' }),
  create() {
    return {
      onRequest(s) {
        s.setResponseHeader(DEBUG_HEADER, debugHeaderValue(s));
      },
      onResponseHeaders(s, res) {
        res.headers[DEBUG_HEADER] = debugHeaderValue(s);
      },
    };
  },
});
