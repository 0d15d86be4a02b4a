// A TCP port on 127.0.0.1 that is free when we look (the OS picks it). Plain JavaScript so the test runner,
// the tests and the bench share this one copy.
import net from 'node:net';

export function freeLoopbackPort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('no port from listen'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}
