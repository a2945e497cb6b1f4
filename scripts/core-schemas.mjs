// Hand-made OpenAPI v3 schemas (Kubernetes structural-schema style) for the Kubernetes core
// kinds the project reads, plus the ObjectMeta schema every kind shares. They cover the fields
// the project uses; other fields Kubernetes has are accepted and ignored (no
// additionalProperties: false), as the data plane ignores unknown fields.
// `x-edgion-message` replaces the generic text of a pattern error with a readable one.

const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const DNS_1035_LABEL = '^[a-z]([-a-z0-9]*[a-z0-9])?$';
const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
// Label and annotation keys: optional DNS-subdomain prefix and "/", then a name of <= 63 characters.
const QUALIFIED_NAME = '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';
const LABEL_VALUE = '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$';
// Go's base64 decoder (what the API server uses for `data`) ignores CR and LF.
const BASE64 = '^[A-Za-z0-9+/\\r\\n]*(=[\\r\\n]*){0,2}$';
const CONFIG_KEY = '^[-._a-zA-Z0-9]+$';

const QUALIFIED_KEY_MESSAGE =
  'must be a name of at most 63 characters (letters, digits, "-", "_", "."; starting and ending with a letter or digit), optionally prefixed by a DNS subdomain and "/"';

const keyNames = { type: 'string', maxLength: 317, pattern: QUALIFIED_NAME, 'x-edgion-message': QUALIFIED_KEY_MESSAGE };

const NAME_RULES = {
  default: {
    maxLength: 253,
    pattern: DNS_SUBDOMAIN,
    'x-edgion-message': 'must be a lower-case DNS subdomain name (letters, digits, "-" and ".", starting and ending with a letter or digit)',
  },
  Namespace: {
    maxLength: 63,
    pattern: DNS_LABEL,
    'x-edgion-message': 'must be a lower-case DNS label (letters, digits and "-", starting and ending with a letter or digit)',
  },
  Service: {
    maxLength: 63,
    pattern: DNS_1035_LABEL,
    'x-edgion-message': 'must be a lower-case DNS-1035 label (letters, digits and "-", starting with a letter and ending with a letter or digit)',
  },
};

/** ObjectMeta: the metadata fields the project reads or keeps (DECISIONS 12). */
export function objectMetaSchema(kind) {
  return {
    type: 'object',
    required: ['name'],
    properties: {
      name: { type: 'string', minLength: 1, ...(NAME_RULES[kind] ?? NAME_RULES.default) },
      namespace: { type: 'string', ...NAME_RULES.Namespace },
      labels: {
        type: 'object',
        additionalProperties: {
          type: 'string',
          maxLength: 63,
          pattern: LABEL_VALUE,
          'x-edgion-message': 'must be at most 63 characters: letters, digits, "-", "_", ".", starting and ending with a letter or digit',
        },
        propertyNames: keyNames,
      },
      annotations: { type: 'object', additionalProperties: { type: 'string' }, propertyNames: keyNames },
      generation: { type: 'integer', format: 'int64', minimum: 0 },
      creationTimestamp: { type: 'string', format: 'date-time' },
      resourceVersion: { type: 'string' },
      uid: { type: 'string' },
    },
  };
}

/** Status is written by the controller; its shape is free for the core kinds. */
export const looseStatusSchema = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };

const stringMap = { type: 'object', additionalProperties: { type: 'string' } };
const port = { type: 'integer', format: 'int32', minimum: 1, maximum: 65535 };
const protocol = { type: 'string', enum: ['TCP', 'UDP', 'SCTP'], default: 'TCP' };

const service = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        ports: {
          type: 'array',
          items: {
            type: 'object',
            required: ['port'],
            properties: {
              name: { type: 'string', maxLength: 63 },
              port,
              targetPort: {
                'x-kubernetes-int-or-string': true,
                anyOf: [
                  { type: 'integer', minimum: 1, maximum: 65535 },
                  { type: 'string', minLength: 1, maxLength: 15 },
                ],
              },
              protocol,
              appProtocol: { type: 'string' },
              nodePort: { type: 'integer', format: 'int32', minimum: 0, maximum: 65535 },
            },
          },
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['port', 'protocol'],
        },
        clusterIP: { type: 'string' },
        clusterIPs: { type: 'array', items: { type: 'string' } },
        type: { type: 'string', enum: ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'], default: 'ClusterIP' },
        externalName: { type: 'string' },
        selector: stringMap,
      },
    },
  },
};

const endpointSlice = {
  type: 'object',
  required: ['addressType'],
  properties: {
    addressType: { type: 'string', enum: ['IPv4', 'IPv6', 'FQDN'] },
    ports: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          // Optional in an EndpointSlice: no port means "all ports" there.
          port: { type: 'integer', format: 'int32', minimum: 0, maximum: 65535 },
          protocol,
          appProtocol: { type: 'string' },
        },
      },
      'x-kubernetes-list-type': 'atomic',
    },
    endpoints: {
      type: 'array',
      items: {
        type: 'object',
        required: ['addresses'],
        properties: {
          addresses: { type: 'array', minItems: 1, maxItems: 100, items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
          conditions: {
            type: 'object',
            properties: {
              ready: { type: 'boolean' },
              serving: { type: 'boolean' },
              terminating: { type: 'boolean' },
            },
          },
          hostname: { type: 'string' },
          nodeName: { type: 'string' },
          zone: { type: 'string' },
        },
      },
      'x-kubernetes-list-type': 'atomic',
    },
  },
};

const endpointAddress = {
  type: 'object',
  required: ['ip'],
  properties: {
    ip: { type: 'string' },
    hostname: { type: 'string' },
    nodeName: { type: 'string' },
  },
};

const endpoints = {
  type: 'object',
  properties: {
    subsets: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          addresses: { type: 'array', items: endpointAddress },
          notReadyAddresses: { type: 'array', items: endpointAddress },
          ports: {
            type: 'array',
            items: {
              type: 'object',
              required: ['port'],
              properties: {
                name: { type: 'string' },
                port,
                protocol,
                appProtocol: { type: 'string' },
              },
            },
          },
        },
      },
    },
  },
};

const base64Map = {
  type: 'object',
  additionalProperties: {
    type: 'string',
    pattern: BASE64,
    'x-edgion-message': 'must be base64-encoded (put plain text under stringData instead)',
  },
  propertyNames: { type: 'string', maxLength: 253, pattern: CONFIG_KEY, 'x-edgion-message': 'must consist of letters, digits, "-", "_" or "."' },
};

const secret = {
  type: 'object',
  properties: {
    type: { type: 'string', default: 'Opaque' },
    data: base64Map,
    stringData: stringMap,
    immutable: { type: 'boolean' },
  },
};

const configMap = {
  type: 'object',
  properties: {
    data: { ...stringMap, propertyNames: base64Map.propertyNames },
    binaryData: base64Map,
    immutable: { type: 'boolean' },
  },
};

const namespace = { type: 'object', properties: {} };

/** Core kinds: group, version and the schema without apiVersion/kind/metadata/status (gen adds those). */
export const CORE_SCHEMAS = {
  Namespace: { apiVersion: 'v1', schema: namespace },
  Service: { apiVersion: 'v1', schema: service },
  EndpointSlice: { apiVersion: 'discovery.k8s.io/v1', schema: endpointSlice },
  Endpoints: { apiVersion: 'v1', schema: endpoints },
  Secret: { apiVersion: 'v1', schema: secret },
  ConfigMap: { apiVersion: 'v1', schema: configMap },
};
