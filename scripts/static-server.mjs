// A minimal static file server for benchmarks and browser tests (no dependencies).
// Serves `root` on 127.0.0.1 with the right MIME types (application/wasm for streaming
// compilation) and cross-origin isolation headers (needed by wasm threads).
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.cjs': 'text/javascript',
  '.json': 'application/json', '.wasm': 'application/wasm', '.onnx': 'application/octet-stream',
  '.jpg': 'image/jpeg', '.png': 'image/png', '.svg': 'image/svg+xml', '.css': 'text/css', '.y4m': 'video/x-yuv4mpeg',
};

/** `isolated: false` leaves out the cross-origin isolation headers (a page without shared memory). */
export function serve(root, port = 0, { isolated = true } = {}) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const file = path.join(root, decodeURIComponent(url.pathname));
    if (!file.startsWith(path.resolve(root))) {
      res.writeHead(403).end();
      return;
    }
    fs.stat(file, (err, st) => {
      const target = !err && st.isDirectory() ? path.join(file, 'index.html') : file;
      fs.readFile(target, (e, buf) => {
        if (e) {
          res.writeHead(404).end('not found');
          return;
        }
        res.writeHead(200, {
          'content-type': TYPES[path.extname(target)] || 'application/octet-stream',
          'content-length': buf.length,
          ...(isolated ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {}),
          'cache-control': 'no-store',
        });
        res.end(buf);
      });
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

export const CHROMIUM_FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];
