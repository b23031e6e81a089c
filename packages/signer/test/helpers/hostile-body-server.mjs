// A Core stand-in in its own process (so its buffers do not count in the client's RSS): every request
// gets `401` with a JSON content type and a body of `BODY_MB` megabytes, or an endless one when BODY_MB
// is `endless`. Prints the port on stdout.
import { createServer } from 'node:http';

const size =
  process.env.BODY_MB === 'endless' ? Number.POSITIVE_INFINITY : Number(process.env.BODY_MB) * 1024 * 1024;
const chunk = Buffer.alloc(64 * 1024, 'a');

const server = createServer((_req, res) => {
  res.writeHead(401, {
    'content-type': 'application/json',
    'www-authenticate': 'Bearer error="invalid_token", error_description="replayed_token"',
  });
  let sent = 0;
  const pump = () => {
    while (sent < size) {
      sent += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    res.end();
  };
  res.on('close', () => {
    sent = size;
  });
  pump();
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
