// auth plugins (plugins.md §4.1–4.9; OpenidConnect lives with the security plugins). Each plugin
// is one file with its schema; code they share is in common.ts.
import type { PluginDefinition } from '../../runtime/define-plugin.js';
import { BasicAuth } from './basic-auth.js';
import { ForwardAuth } from './forward-auth.js';
import { HeaderCertAuth } from './header-cert-auth.js';
import { HmacAuth } from './hmac-auth.js';
import { JweDecrypt } from './jwe-decrypt.js';
import { JwtAuth } from './jwt-auth.js';
import { KeyAuth } from './key-auth.js';
import { LdapAuth } from './ldap-auth.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const AUTH_PLUGINS: readonly PluginDefinition<any>[] = [BasicAuth, KeyAuth, JwtAuth, HmacAuth, LdapAuth, ForwardAuth, JweDecrypt, HeaderCertAuth];
