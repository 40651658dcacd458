// A stand-in for Google's Gemini API (unreachable here) for the browser
// tests: it speaks `POST /v1beta/models/{model}:generateContent` as the real
// API does (key in `x-goog-api-key`, `usageMetadata` with cached and
// thinking tokens) and plays a model that knows the demo sales database.
//
// - Analysis (a request whose response schema has `intent`): "region" in the
//   question -> revenue per region; a follow-up naming a region -> that
//   region only, but only when the prompt carries the earlier turn's SQL
//   (the server's conversation memory); anything else -> a clarification.
// - SQL Response (plain text): a sentence naming the first row of the sample.
//
// Usage: node stub-gemini.mjs <port>
import http from 'node:http';

const port = Number(process.argv[2] ?? process.env.E2E_LLM_PORT ?? 3418);
export const key = 'e2e-stub-key';

const BY_REGION =
  'SELECT r.name AS region, SUM(l.quantity * l.unit_price) AS revenue FROM order_lines l ' +
  'JOIN orders o ON o.id = l.order_id JOIN customers c ON c.id = o.customer_id ' +
  'JOIN regions r ON r.id = c.region_id GROUP BY r.name ORDER BY revenue DESC';
const REGIONS = ['North', 'South', 'East', 'West'];

function analysis(prompt) {
  const question = (prompt.match(/^Question: (.*)$/m) ?? [])[1] ?? '';
  const earlier = prompt.includes('Earlier in this conversation') && prompt.includes('JOIN regions r');
  const region = REGIONS.find((r) => question.includes(r));
  if (region && earlier) {
    const sql = BY_REGION.replace(' GROUP BY', ` WHERE r.name = '${region}' GROUP BY`);
    return { intent: 'data', sql };
  }
  if (/region/i.test(question)) return { intent: 'data', sql: BY_REGION };
  return { intent: 'clarify', answer: 'Which figures would you like to see? For example: revenue by region.' };
}

function response(prompt) {
  const lines = prompt.split('\n');
  const header = lines.findIndex((l) => l.startsWith('Rows returned:'));
  const first = header >= 0 ? lines[header + 2] : undefined;
  if (!first) return 'Nothing matched the question.';
  const [label, value] = first.split(' | ');
  return `${label} leads with ${value} in revenue.`;
}

const server = http.createServer((req, res) => {
  const send = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(JSON.stringify(body));
  };
  if (req.method !== 'POST' || !/^\/v1beta\/models\/[^/:]+:generateContent$/.test(req.url ?? '')) {
    return send(404, { error: { code: 404, message: 'Not found', status: 'NOT_FOUND' } });
  }
  if (req.headers['x-goog-api-key'] !== key) {
    return send(400, { error: { code: 400, message: 'API key not valid.', status: 'INVALID_ARGUMENT' } });
  }
  let raw = '';
  req.on('data', (chunk) => (raw += chunk));
  req.on('end', () => {
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      return send(400, { error: { code: 400, message: 'Invalid JSON payload.', status: 'INVALID_ARGUMENT' } });
    }
    const prompt = (body.contents ?? []).flatMap((c) => c.parts ?? []).map((p) => p.text ?? '').join('\n');
    const schema = body.generationConfig?.responseSchema;
    const text = schema?.properties?.intent ? JSON.stringify(analysis(prompt)) : response(prompt);
    send(200, {
      candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP', index: 0 }],
      usageMetadata: {
        promptTokenCount: 1800,
        cachedContentTokenCount: 512,
        candidatesTokenCount: 120,
        thoughtsTokenCount: 300,
        totalTokenCount: 2220,
      },
      modelVersion: 'stub',
      responseId: 'e2e',
    });
  });
});
server.listen(port, '127.0.0.1', () => console.log(`stub Gemini on ${port}`));
