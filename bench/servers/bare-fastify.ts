// Baseline: the cheapest useful Fastify 5 server, one JSON route, no plugins, no logging.
import Fastify from 'fastify';

const port = Number(process.env.PORT ?? '0');
const app = Fastify({ logger: false });
app.get('/json', async () => ({ hello: 'world' }));

await app.listen({ host: '127.0.0.1', port });
process.stdout.write(`listening ${port}\n`);

const stop = (): void => { app.close().then(() => process.exit(0), () => process.exit(1)); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
