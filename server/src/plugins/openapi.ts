import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';

/**
 * The OpenAPI document is generated from the route schemas (the TypeBox schemas of @parley/wire);
 * the UI is served at /api/docs and the document at /api/docs/json.
 */
export const openapiPlugin = fp(
  async (app) => {
    await app.register(fastifySwagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Parley API',
          description:
            'Accounts, key directory, rooms and ciphertext store of Parley. Every error is ' +
            '`{ "error": { "code", "message" } }` with a code from @parley/wire.',
          version: '1',
        },
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          },
        },
      },
    });
    await app.register(fastifySwaggerUi, { routePrefix: '/api/docs' });
  },
  { name: 'parley-openapi', fastify: '5.x' },
);
