// End-to-end check of the mcp-secrets binary with an independent client:
// the official MCP TypeScript SDK (@modelcontextprotocol/sdk, pinned in
// package.json). Run by cmd/mcp-secrets/tsclient_test.go, or by hand:
//
//	npm ci --prefix testdata/tsclient
//	node testdata/tsclient/e2e.mjs /path/to/mcp-secrets accept|decline|cancel|no-elicitation
//
// It starts BINARY --backend memory over stdio (with this process's
// environment), plays one human answer to every elicitation, and prints one
// "ok - ..." / "not ok - ..." line per check and a closing
// "N passed, M failed" line. It exits 1 if any check failed, 2 on bad usage.
//
// The canary (E2E_CANARY, or a default) is a secret value stored through the
// server; it is never printed: every detail goes through redact().

import { readFileSync } from 'node:fs';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema, LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';

const SCENARIOS = ['accept', 'decline', 'cancel', 'no-elicitation'];
const [binary, scenario] = process.argv.slice(2);
if (!binary || !SCENARIOS.includes(scenario)) {
  console.error(`usage: node e2e.mjs BINARY ${SCENARIOS.join('|')}`);
  process.exit(2);
}
const elicits = scenario !== 'no-elicitation';
const accepts = scenario === 'accept';
const answered = { accept: 'accepted', decline: 'declined', cancel: 'cancelled' }[scenario];

const canary = process.env.E2E_CANARY || 'CANARY-tsclient-7e41c0a9d2';
const redact = (s) => String(s).split(canary).join('[canary]');
const has = (v, s = canary) => JSON.stringify(v ?? null).includes(s);
const TIMEOUT = { timeout: 20_000 };

let passed = 0;
let failed = 0;
function check(cond, what, detail) {
  if (cond) {
    passed++;
    console.log(`ok - ${what}`);
  } else {
    failed++;
    console.log(`not ok - ${what}`);
    if (detail !== undefined) {
      const text = typeof detail === 'string' ? detail : JSON.stringify(detail);
      console.log(`#   ${redact(text).slice(0, 2000).replace(/\n/g, '\n#   ')}`);
    }
  }
  return cond;
}
const text = (res) => (res?.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('');

// Every JSON-RPC message, both ways, for the wire check at the end.
const wire = [];
let stderr = '';
let elicitations = [];

const transport = new StdioClientTransport({
  command: binary,
  args: ['--backend', 'memory'],
  env: { ...process.env },
  stderr: 'pipe',
});
transport.stderr?.on('data', (chunk) => {
  stderr += chunk;
});
// The SDK reports the protocol version it settled on to transports that
// want it (HTTP sends it as a header); stdio does not, so hook it here.
let negotiated;
transport.setProtocolVersion = (v) => {
  negotiated = v;
};

const capabilities = elicits ? { elicitation: { form: {} } } : {};
const client = new Client({ name: 'mcp-secrets-tsclient-e2e', version: '0.0.0' }, { capabilities });
if (elicits) {
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    elicitations.push(req.params);
    switch (scenario) {
      case 'accept':
        return { action: 'accept', content: { confirm: true } };
      case 'decline':
        return { action: 'decline' };
      default:
        return { action: 'cancel' };
    }
  });
}

let calls = 0;
async function call(name, args) {
  calls++;
  try {
    return await client.callTool({ name, arguments: args }, undefined, TIMEOUT);
  } catch (err) {
    return { thrown: err };
  }
}
// callOK: the call returned a result that is not a tool error.
function callOK(res, what) {
  return check(res && !res.thrown && !res.isError, what, res?.thrown ? String(res.thrown) : text(res));
}

async function main() {
  console.log(`# scenario ${scenario}; SDK ${sdkVersion()}; client offers protocol ${LATEST_PROTOCOL_VERSION}`);
  try {
    await client.connect(transport, TIMEOUT);
  } catch (err) {
    check(false, 'connect to the server', `${err}\nserver stderr:\n${stderr}`);
    return;
  }
  // Tap the wire from here on (initialize carries no value).
  const onmessage = transport.onmessage;
  transport.onmessage = (msg, extra) => {
    wire.push({ dir: 'in', msg });
    onmessage?.(msg, extra);
  };
  const send = transport.send.bind(transport);
  transport.send = (msg, opts) => {
    wire.push({ dir: 'out', msg });
    return send(msg, opts);
  };
  const child = transport._process; // private, but the SDK is pinned: see the clean-exit check
  console.log(`# negotiated protocol version: ${negotiated}`);
  check(SUPPORTED_PROTOCOL_VERSIONS.includes(negotiated), `negotiated protocol version ${negotiated} is one the SDK supports`);
  console.log(`# server: ${JSON.stringify(client.getServerVersion())}`);

  // Tools and their annotations.
  const { tools } = await client.listTools(undefined, TIMEOUT);
  const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
  const want = ['clear_credentials', 'list_stored_credentials', 'retrieve_credential', 'store_credential'];
  check(JSON.stringify(Object.keys(byName).sort()) === JSON.stringify(want), 'tools/list has exactly the four tools', Object.keys(byName));
  for (const name of want) {
    const a = byName[name]?.annotations ?? {};
    const readOnly = name === 'list_stored_credentials' || name === 'retrieve_credential';
    if (readOnly) {
      check(a.readOnlyHint === true, `${name}: readOnlyHint true`, a);
      check(a.destructiveHint !== true, `${name}: not destructiveHint`, a);
    } else {
      check(a.readOnlyHint !== true, `${name}: not readOnlyHint`, a);
      check(a.destructiveHint === true, `${name}: destructiveHint true`, a);
    }
    check(a.openWorldHint === false, `${name}: openWorldHint false`, a);
  }

  // Store a string and an object; the answers carry metadata only.
  let res = await call('store_credential', { name: 'github', value: `ghp_${canary}`, description: 'GitHub token' });
  callOK(res, 'store a string credential');
  check(!has(res), 'the store result does not carry the value');
  res = await call('store_credential', { name: 'db', value: { user: 'ada', password: canary } });
  callOK(res, 'store an object credential');
  check(!has(res), 'the store result does not carry the value');
  check(res.structuredContent?.kind === 'object', 'the object is stored as kind object', res.structuredContent);
  res = await call('store_credential', { name: 'db', value: 'other' });
  check(res.isError === true && /overwrite/.test(text(res)), 'storing over an existing name without overwrite is refused', text(res));

  // List: both names, no value anywhere.
  res = await call('list_stored_credentials', {});
  callOK(res, 'list credentials');
  check(res.structuredContent?.count === 2, 'list count is 2', res.structuredContent);
  check(!has(res), 'the list result carries no value anywhere');
  const dbInfo = res.structuredContent?.credentials?.find((c) => c.name === 'db');
  check(JSON.stringify(dbInfo?.fields) === '["password","user"]', 'the object credential lists its field names', dbInfo);

  // Retrieve without reveal: metadata and preview only, nobody asked.
  const before = elicitations.length;
  res = await call('retrieve_credential', { name: 'github' });
  callOK(res, 'retrieve without reveal');
  check(!has(res) && res.structuredContent?.revealed === false, 'retrieve without reveal returns no value', res.structuredContent);
  check(elicitations.length === before, 'retrieve without reveal asks the human nothing');

  // Retrieve with reveal: the value only if the human accepted.
  for (const [args, value] of [
    [{ name: 'github', reveal: true }, `ghp_${canary}`],
    [{ name: 'db', field: 'password', reveal: true }, canary],
  ]) {
    const what = `retrieve ${JSON.stringify(args)}`;
    res = await call('retrieve_credential', args);
    if (!elicits) {
      check(res.isError === true && /elicitation/i.test(text(res)), `${what}: refused with a reason that names elicitation`, res.thrown ? String(res.thrown) : text(res));
      check(!has(res), `${what}: no value in the refusal`);
      continue;
    }
    callOK(res, what);
    if (accepts) {
      check(res.structuredContent?.revealed === true && res.structuredContent?.value === value, `${what}: accepted, the value is revealed`, res.structuredContent);
      check(text(res).includes(canary), `${what}: the text content carries the value too`);
    } else {
      check(!has(res), `${what}: ${answered}, no value anywhere in the result`);
      check(res.structuredContent?.revealed === false, `${what}: ${answered}, revealed is false`, res.structuredContent);
    }
  }

  // Delete one name.
  res = await call('clear_credentials', { names: ['db'] });
  switch (scenario) {
    case 'accept':
      check(!res.isError && text(res) === 'Deleted 1 credential: db.', 'clear db: accepted, "Deleted 1 credential: db."', res.thrown ? String(res.thrown) : text(res));
      check(JSON.stringify(res.structuredContent?.deleted) === '["db"]', 'clear db: structured result names db', res.structuredContent);
      break;
    case 'decline':
    case 'cancel':
      check(!res.isError && text(res) === 'Deletion cancelled.', `clear db: ${answered}, exactly "Deletion cancelled."`, res.thrown ? String(res.thrown) : text(res));
      check(res.structuredContent?.cancelled === true, `clear db: ${answered}, cancelled is true`, res.structuredContent);
      break;
    default:
      check(res.isError === true && /elicitation/i.test(text(res)), 'clear db: refused with a reason that names elicitation', res.thrown ? String(res.thrown) : text(res));
  }
  check(!has(res), 'the clear result carries no value');

  // What is left.
  res = await call('list_stored_credentials', {});
  const names = (res.structuredContent?.credentials ?? []).map((c) => c.name).sort();
  const left = accepts ? ['github'] : ['db', 'github'];
  check(res.structuredContent?.count === left.length && JSON.stringify(names) === JSON.stringify(left), `final list: ${left.join(', ')}`, res.structuredContent);

  // The questions the human saw.
  const asked = elicits ? 3 : 0;
  check(elicitations.length === asked, `the human was asked ${asked} times`, `asked ${elicitations.length} times`);
  elicitations.forEach((p, i) => {
    const prop = p.requestedSchema?.properties?.confirm;
    check((p.mode ?? 'form') === 'form' && prop?.type === 'boolean' && typeof p.message === 'string' && p.message.length > 0,
      `elicitation ${i + 1} is a form with a boolean "confirm"`, p);
    check(!has(p), `elicitation ${i + 1} carries no value`);
  });
  const subjects = elicitations.map((p) => p.message);
  if (elicits) {
    check(/github/.test(subjects[0] ?? '') && /password/.test(subjects[1] ?? '') && /db/.test(subjects[2] ?? ''),
      'each elicitation message names what it is about', subjects);
  }

  // The value on the wire: only in the store requests this client sent and,
  // if the human accepted, in the two reveal results.
  check(wire.filter((w) => w.dir === 'out' && w.msg.method === 'tools/call').length === calls, `the wire tap saw all ${calls} tool calls`);
  let reveals = 0;
  const stray = [];
  for (const { dir, msg } of wire) {
    if (!has(msg)) continue;
    if (dir === 'out' && msg.method === 'tools/call' && msg.params?.name === 'store_credential') continue;
    if (dir === 'in' && msg.result?.structuredContent?.revealed === true) {
      reveals++;
      continue;
    }
    stray.push(msg);
  }
  check(stray.length === 0, 'the value is on the wire only in store requests and allowed reveals', stray);
  check(reveals === (accepts ? 2 : 0), `${accepts ? 2 : 0} reveals on the wire`, `${reveals} reveals`);

  await client.close();
  const exited = await new Promise((resolve) => {
    if (!child) return resolve(null);
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child);
    child.once('exit', () => resolve(child));
    setTimeout(() => resolve(child), 5000).unref();
  });
  check(exited && exited.exitCode === 0, 'the server exited with code 0 when the client closed', exited ? { exitCode: exited.exitCode, signal: exited.signalCode } : 'no child process handle');
  check(!stderr.includes(canary), "the value never reached the server's stderr");
}

function sdkVersion() {
  try {
    const url = new URL('./node_modules/@modelcontextprotocol/sdk/package.json', import.meta.url);
    return JSON.parse(readFileSync(url, 'utf8')).version;
  } catch {
    return 'unknown';
  }
}


try {
  await main();
} catch (err) {
  check(false, 'the scenario ran to the end', `${err?.stack ?? err}`);
}
if (failed > 0) {
  console.log(`# server stderr (redacted):${stderr.trim() ? `\n${redact(stderr.trimEnd()).replace(/^/gm, '#   ')}` : ' (empty)'}`);
}
try {
  await client.close();
} catch {
  // already closed
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
