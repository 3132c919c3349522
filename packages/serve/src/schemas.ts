/**
 * The routes' JSON Schemas: fastify validates requests with them and @fastify/swagger builds
 * /openapi.json from them. Image endpoints take JSON (images as base64 strings) or
 * multipart/form-data (images as file parts); each content type has its own schema.
 */

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string', description: 'one line naming the field at fault' },
        field: { type: 'string' },
      },
    },
  },
} as const;

/** A base64 image in JSON ('data:image/png;base64,' prefixes are accepted). */
const base64Image = (what: string) => ({
  type: 'string',
  contentEncoding: 'base64',
  minLength: 1,
  description: `${what}: PNG, JPEG, WebP, GIF or TIFF bytes, base64-encoded`,
});

/** A file part of a multipart body (validated as bytes by the handler: fastify sees a Buffer). */
const filePart = (what: string) => ({ format: 'binary', description: `${what}: an image file part` });

const errors = {
  400: errorSchema,
  401: errorSchema,
  413: errorSchema,
  415: errorSchema,
  503: errorSchema,
  504: errorSchema,
};

const threshold = {
  type: ['object', 'null'],
  properties: {
    probability: { type: 'number' },
    method: { type: 'string' },
    targetFar: { type: 'number' },
  },
} as const;

const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$';

function body(json: object, multipart: object) {
  return {
    content: {
      'application/json': { schema: json },
      'multipart/form-data': { schema: multipart },
    },
  };
}

export const compareSchema = {
  summary: 'The probability that two images show the same identity, and the decision',
  body: body(
    {
      type: 'object',
      required: ['a', 'b'],
      additionalProperties: false,
      properties: { a: base64Image('the first image'), b: base64Image('the second image') },
    },
    {
      type: 'object',
      required: ['a', 'b'],
      properties: { a: filePart('the first image'), b: filePart('the second image') },
    },
  ),
  response: {
    200: {
      type: 'object',
      properties: {
        probability: { type: 'number' },
        logit: { type: 'number' },
        same: { type: ['boolean', 'null'], description: 'null when the model has no calibrated threshold' },
        threshold,
      },
    },
    ...errors,
  },
};

export const embedSchema = {
  summary: "The image's embedding (the encoder's output)",
  body: body(
    {
      type: 'object',
      required: ['image'],
      additionalProperties: false,
      properties: { image: base64Image('the image') },
    },
    { type: 'object', required: ['image'], properties: { image: filePart('the image') } },
  ),
  response: {
    200: {
      type: 'object',
      properties: { embedding: { type: 'array', items: { type: 'number' } }, size: { type: 'integer' } },
    },
    ...errors,
  },
};

const kField = { type: 'integer', minimum: 1, maximum: 1000, default: 5, description: 'how many matches' };

export const searchSchema = {
  summary: 'The k enrolments of the gallery most likely to show the same identity as the image',
  body: body(
    {
      type: 'object',
      required: ['image'],
      additionalProperties: false,
      properties: { image: base64Image('the query image'), k: kField },
    },
    { type: 'object', required: ['image'], properties: { image: filePart('the query image'), k: kField } },
  ),
  response: {
    200: {
      type: 'object',
      properties: {
        gallery: { type: 'integer', description: 'enrolments searched' },
        threshold,
        matches: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              rank: { type: 'integer' },
              id: { type: 'string' },
              label: { type: ['string', 'null'] },
              probability: { type: 'number' },
              same: { type: ['boolean', 'null'] },
            },
          },
        },
      },
    },
    ...errors,
  },
};

export function enrolSchema(maxImages: number) {
  const id = {
    type: 'string',
    pattern: ID_PATTERN,
    description: 'the enrolment id (letters, digits, . _ : @ -)',
  };
  const label = { type: 'string', minLength: 1, maxLength: 256, description: 'the identity label' };
  return {
    summary: 'Enrols one or more images of one identity under an id and label',
    body: body(
      {
        type: 'object',
        required: ['id', 'images'],
        additionalProperties: false,
        properties: {
          id,
          label,
          images: { type: 'array', minItems: 1, maxItems: maxImages, items: base64Image('an image') },
        },
      },
      {
        type: 'object',
        required: ['id', 'image'],
        properties: { id, label, image: filePart('an image (repeat the part for several)') },
      },
    ),
    response: {
      201: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          label: { type: ['string', 'null'] },
          images: { type: 'integer' },
          gallery: { type: 'integer', description: 'enrolments in the gallery now' },
        },
      },
      409: errorSchema,
      ...errors,
    },
  };
}

export const removeSchema = {
  summary: 'Removes an enrolment (every image of it)',
  params: {
    type: 'object',
    required: ['id'],
    properties: { id: { type: 'string', pattern: ID_PATTERN } },
  },
  response: {
    200: {
      type: 'object',
      properties: { id: { type: 'string' }, removed: { type: 'integer' }, gallery: { type: 'integer' } },
    },
    404: errorSchema,
    ...errors,
  },
};

export const modelSchema = {
  summary: 'The model served: architecture, input, threshold, precision, metrics; and the pool',
  response: {
    200: {
      type: 'object',
      properties: {
        architecture: { type: 'string' },
        embeddingSize: { type: 'integer' },
        input: {
          type: 'object',
          properties: {
            channels: { type: 'integer' },
            height: { type: 'integer' },
            width: { type: 'integer' },
          },
        },
        preprocessing: { type: 'object', additionalProperties: true },
        threshold,
        precision: { type: 'string' },
        metrics: { type: 'object', additionalProperties: { type: 'number' } },
        fingerprint: { type: 'string' },
        provider: { type: 'string' },
        workers: { type: 'integer' },
        threadsPerWorker: { type: 'integer' },
        maxBatch: { type: 'integer' },
        maxDelayMs: { type: 'integer' },
        gallery: {
          type: 'object',
          properties: {
            enrolments: { type: 'integer' },
            images: { type: 'integer' },
            persisted: { type: 'boolean' },
          },
        },
      },
    },
    401: errorSchema,
  },
};

export const healthSchema = {
  summary: 'Liveness: the process answers',
  response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } },
};

export const readySchema = {
  summary: "Readiness: every worker's session is warm and the server is not draining",
  response: {
    200: readyBody(),
    503: readyBody(),
  },
};

function readyBody() {
  return {
    type: 'object',
    properties: {
      ready: { type: 'boolean' },
      workers: { type: 'integer' },
      warm: { type: 'integer' },
      draining: { type: 'boolean' },
    },
  };
}
