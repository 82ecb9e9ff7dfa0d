/**
 * F-jwt floor: bare node:http doing one jose RS256 jwtVerify per request (key imported once).
 *   env PORT, FLOOR_JWK (public JWK, JSON), FLOOR_ISSUER, FLOOR_AUDIENCE
 */
import http from 'node:http';
import { importJWK, jwtVerify, type JWK } from 'jose';

const key = await importJWK(JSON.parse(process.env.FLOOR_JWK!) as JWK, 'RS256');
const issuer = process.env.FLOOR_ISSUER!;
const audience = process.env.FLOOR_AUDIENCE!;

http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const token = (req.headers.authorization ?? '').slice(7);
    if (!token) { res.writeHead(200).end('ok'); return; }
    jwtVerify(token, key, { issuer, audience, algorithms: ['RS256'] }).then(
      () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"allowed":true}'),
      () => res.writeHead(401, { 'content-type': 'application/json' }).end('{"allowed":false}'),
    );
  });
}).listen(Number(process.env.PORT), '127.0.0.1');
