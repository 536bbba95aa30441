// B1's baseline: a bare Express app with one route doing nothing but parse the JSON body and
// answer 202, started the same way as the API (its own Node process, NODE_ENV=production).
const path = require('node:path');
const express = require(require.resolve('express', { paths: [path.join(__dirname, '..', '..', 'apps', 'api')] }));

const app = express();
app.use(express.json({ limit: '1mb' }));
app.get('/healthz', (_req, res) => res.json({ status: 'ok' }));
app.post('/bare', (_req, res) => res.status(202).json({}));
app.listen(Number(process.env.PORT), '127.0.0.1');
