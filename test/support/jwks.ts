import { once } from 'node:events';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWK } from 'jose';

/**
 * An identity provider's key set, served over real HTTP by the test on a loopback port: the keys
 * can be changed (rotation), the server stopped and started again on the same port, or told to
 * accept requests and never answer them.
 */
export interface JwksServer {
  url: string;
  /** Every GET of the key set so far. */
  fetches: number;
  keys: JWK[];
  /** 'hang': accept the request, never answer. */
  mode: 'ok' | 'hang';
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startJwksServer(keys: JWK[] = []): Promise<JwksServer> {
  let server: Server | undefined;
  let port = 0;
  const state: JwksServer = {
    url: '',
    fetches: 0,
    keys,
    mode: 'ok',
    start: async () => {
      // Started already: a second server on the port would fail and orphan the first (left listening).
      if (server?.listening) return;
      server = createServer((req, res) => {
        if (req.url !== '/.well-known/jwks.json') return void res.writeHead(404).end();
        state.fetches++;
        if (state.mode === 'hang') return;
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys: state.keys }));
      });
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
      port = (server.address() as AddressInfo).port;
      state.url = `http://127.0.0.1:${port}/.well-known/jwks.json`;
    },
    stop: async () => {
      if (!server) return;
      const closed = once(server, 'close');
      server.close();
      // Keep-alive and hanging requests too: the port must refuse from now on.
      server.closeAllConnections();
      await closed;
      server = undefined;
    },
  };
  await state.start();
  return state;
}
