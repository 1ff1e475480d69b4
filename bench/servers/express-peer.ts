// The common tutorial stack: Express 5 + helmet + express-rate-limit + jsonwebtoken with a PEM public key.
import { readFileSync } from 'node:fs';
import express, { type NextFunction, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import jwt, { type JwtPayload } from 'jsonwebtoken';

const port = Number(process.env.PORT ?? '0');
const keyFile = process.env.PEER_PUBLIC_KEY_FILE;
if (!keyFile) throw new Error('PEER_PUBLIC_KEY_FILE is required');
const publicKeyPem = readFileSync(keyFile, 'utf8');

const app = express();
app.disable('x-powered-by');
app.use(helmet());
// Counts every request per IP, as tutorials configure it, but high enough never to refuse.
app.use(rateLimit({ windowMs: 60_000, limit: 1_000_000_000, standardHeaders: 'draft-8', legacyHeaders: false }));

interface AuthedRequest extends Request { claims?: JwtPayload }

function authenticate(req: AuthedRequest, res: Response, next: NextFunction): void {
  const header = req.headers.authorization;
  if (!header?.startsWith('Bearer ')) {
    res.status(401).json({ error: 'missing token' });
    return;
  }
  try {
    // The PEM string is passed on every call, exactly as the tutorials do.
    const decoded = jwt.verify(header.slice(7), publicKeyPem, { algorithms: ['ES256'] });
    if (typeof decoded === 'string') throw new Error('unexpected string payload');
    req.claims = decoded;
    next();
  } catch {
    res.status(401).json({ error: 'invalid token' });
  }
}

app.get('/v1/auth/whoami', authenticate, (req: AuthedRequest, res: Response) => {
  const c = req.claims!;
  res.json({ sub: c.sub, sid: c.sid as string, roles: c.roles as string[], exp: new Date((c.exp ?? 0) * 1000).toISOString() });
});

const server = app.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${port}\n`));

const stop = (): void => { server.close(() => process.exit(0)); setTimeout(() => process.exit(0), 1000).unref(); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
