// The `fastify` jest project runs the HTTP contract suites again on Fastify:
// bootTestApp picks the adapter from HTTP_ADAPTER unless a suite sets its own.
process.env.HTTP_ADAPTER = 'fastify';
