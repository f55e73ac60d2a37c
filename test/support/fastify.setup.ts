// The `fastify` jest project runs every HTTP e2e suite again on Fastify (package.json lists the
// suites that do not serve HTTP): bootTestApp and HTTP_ADAPTERS pick the adapter from HTTP_ADAPTER.
process.env.HTTP_ADAPTER = 'fastify';
